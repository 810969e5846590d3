// Any bytes as a chain file: the parser returns a ChainSpec or an Error,
// never crashes, and what it accepts formats and parses back equal.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "qnet/config/chain_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const qnet::config::KeyRegistry kRegistry;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = qnet::config::ParseChainText(text, "fuzz.toml", kRegistry);
  if (!spec) return 0;
  auto again = qnet::config::ParseChainText(qnet::config::FormatChainFile(*spec), "fuzz.toml",
                                            kRegistry);
  if (!again || !(*again == *spec)) std::abort();
  return 0;
}
