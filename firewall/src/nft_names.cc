#include "qnet/firewall/nft_names.h"

#include <fmt/format.h>

namespace qnet::firewall {

std::string ClientChain(uint32_t id) { return fmt::format("fw-{}", id); }
std::string ClientDropCounter(uint32_t id) { return fmt::format("fw-{}-drop", id); }
std::string ExpiryChain(uint32_t id, size_t rule) { return fmt::format("fw-{}-x{}", id, rule); }
std::string HostSet(uint32_t id, size_t rule, bool ipv6) {
  return fmt::format("fw-{}-r{}-{}", id, rule, ipv6 ? 6 : 4);
}

}  // namespace qnet::firewall
