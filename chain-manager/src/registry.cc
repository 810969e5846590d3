#include "registry.h"

#include "qnet/base/log.h"
#include "qnet/firewall/config_key.h"
#include "qnet/tor/config_key.h"
#include "qnet/vpn/config_key.h"

namespace qnet::chain {

config::KeyRegistry BuildKeyRegistry() {
  config::KeyRegistry r;
  // Rows are constants of the role modules; a failure here is a programming error.
  Status s = r.Add(firewall::FirewallKeyRule());
  if (s) s = r.Add(vpn::WireguardKeyRule());
  if (s) s = r.Add(tor::TorKeyRule());
  if (s) s = r.Add(vpn::BackendKeyRule());
  if (!s) spdlog::critical("key registry: {}", s.error().message());
  return r;
}

}  // namespace qnet::chain
