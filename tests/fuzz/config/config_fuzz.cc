// Any bytes as a chain file: the parser returns a ChainSpec or an Error,
// never crashes, and what it accepts formats and parses back equal. The
// registry holds the role modules' keys as qnetd's does, so that their
// validators (firewall rule lists, wireguard) are fuzzed too.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "qnet/config/chain_file.h"
#include "qnet/firewall/config_key.h"
#include "qnet/vpn/config_key.h"

namespace {

qnet::config::KeyRegistry RoleKeys() {
  qnet::config::KeyRegistry r;
  if (!r.Add(qnet::firewall::FirewallKeyRule()) || !r.Add(qnet::vpn::WireguardKeyRule()))
    std::abort();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const qnet::config::KeyRegistry kRegistry = RoleKeys();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = qnet::config::ParseChainText(text, "fuzz.toml", kRegistry);
  if (!spec) return 0;
  auto again =
      qnet::config::ParseChainText(qnet::config::FormatChainFile(*spec), "fuzz.toml", kRegistry);
  if (!again || !(*again == *spec)) std::abort();
  return 0;
}
