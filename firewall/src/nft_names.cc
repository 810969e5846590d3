#include "qnet/firewall/nft_names.h"

#include <fmt/format.h>

namespace qnet::firewall {

std::string ClientChain(uint32_t id) { return fmt::format("fw-{}", id); }
std::string ClientChain6(uint32_t id) { return fmt::format("fw-{}-6", id); }
bool IsClientObject(uint32_t id, std::string_view name) {
  const std::string chain = ClientChain(id);
  return name.starts_with(chain) && (name.size() == chain.size() || name[chain.size()] == '-');
}
std::string ClientDropCounter(uint32_t id) { return fmt::format("fw-{}-drop", id); }
std::string HostSet(uint32_t id, size_t rule, bool ipv6, bool accept) {
  return fmt::format("fw-{}-{}{}-{}", id, accept ? 'a' : 'd', rule, ipv6 ? 6 : 4);
}

}  // namespace qnet::firewall
