#include "synthetic_clients.h"

#include <fmt/format.h>

#include <span>

#include "qnet/firewall/rule_list.h"
#include "qnet/qube/address.h"

namespace qnet::bench {
namespace {

// One rule in both forms. `dst` empty: any destination; `l4` empty: any
// protocol; `ports` and `icmp_type` empty: not matched.
struct RuleSpec {
  bool accept = true;
  std::string dst;        // "203.0.113.7" or "198.18.3.0/24"
  std::string l4;         // tcp | udp | icmp
  std::string ports;      // "443" or "8000-8100"
  std::string icmp_type;  // "8"
};

std::vector<RuleSpec> Specs(uint32_t index) {
  const uint32_t a = index % 250 + 1;  // 1..250
  const uint32_t b = (index / 250) % 250;
  auto s = [](uint32_t v) { return std::to_string(v); };
  return {
      {true, "203.0.113." + s(a), "tcp", "443", ""},
      {true, "198.18." + s(b) + ".0/24", "tcp", "8000-8100", ""},
      {false, "198.19." + s(a) + ".0/24", "udp", "53", ""},
      {true, "100.64." + s(a) + ".0/24", "udp", "1024-2047", ""},
      {true, "", "icmp", "", "8"},
      {false, "198.51.100." + s(a), "icmp", "", "13"},
      {true, "203.0.113.0/24", "tcp", "22", ""},
      {false, "", "udp", "5353", ""},
      {true, "192.168." + s(a) + ".0/24", "", "", ""},
      {index % 2 == 0, "", "", "", ""},
  };
}

std::string QubesText(const RuleSpec& r) {
  std::string t = r.accept ? "accept" : "drop";
  if (!r.dst.empty()) t += " dst4=" + r.dst;
  if (!r.l4.empty()) t += " proto=" + r.l4;
  if (!r.ports.empty()) t += " dstports=" + r.ports;
  if (!r.icmp_type.empty()) t += " icmptype=" + r.icmp_type;
  return t;
}

std::string NftText(const RuleSpec& r) {
  std::string t;
  if (!r.dst.empty()) t += "ip daddr " + r.dst + " ";
  if (!r.ports.empty())
    t += r.l4 + " dport " + r.ports + " ";
  else if (!r.icmp_type.empty())
    t += "icmp type " + r.icmp_type + " ";
  else if (!r.l4.empty())
    t += "meta l4proto " + r.l4 + " ";
  return t + (r.accept ? "counter accept" : "counter drop");
}

}  // namespace

std::vector<std::string> SyntheticRuleTexts(uint32_t index) {
  std::vector<std::string> out;
  for (const RuleSpec& r : Specs(index)) out.push_back(QubesText(r));
  return out;
}

std::vector<std::string> SyntheticNftStatements(uint32_t index) {
  std::vector<std::string> out;
  for (const RuleSpec& r : Specs(index)) out.push_back(NftText(r));
  return out;
}

Result<firewall::Client> SyntheticClient(uint32_t index, uint32_t id) {
  QNET_ASSIGN_OR_RETURN(IpAddr addr, qube::Ipv4ForId(id));
  QNET_ASSIGN_OR_RETURN(std::string vif, qube::VifName(id));
  const std::vector<std::string> texts = SyntheticRuleTexts(index);
  QNET_ASSIGN_OR_RETURN(firewall::RuleList rules,
                        firewall::RuleList::Parse(std::span<const std::string>(texts), 0));
  return firewall::Client{.name = fmt::format("synthetic-{}", id),
                          .id = id,
                          .ipv4 = addr,
                          .ipv6 = std::nullopt,
                          .vif = std::move(vif),
                          .rules = std::move(rules)};
}

Result<std::vector<firewall::Client>> SyntheticClients(uint32_t first_id, uint32_t count) {
  std::vector<firewall::Client> out;
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    QNET_ASSIGN_OR_RETURN(firewall::Client c, SyntheticClient(i, first_id + i));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace qnet::bench
