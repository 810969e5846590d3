// Any bytes as a wg-quick file: ParseWgQuick returns a config or an Error,
// and a config it accepts writes to text that parses back to the same config.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "qnet/vpn/wg_quick.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto config = qnet::vpn::ParseWgQuick(text, "fuzz.conf");
  if (!config) return 0;
  auto again = qnet::vpn::ParseWgQuick(qnet::vpn::FormatWgQuick(*config), "again.conf");
  if (!again || !(*again == *config)) std::abort();
  return 0;
}
