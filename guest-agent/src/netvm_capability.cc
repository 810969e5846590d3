#include "netvm_capability.h"

#include "qnet/firewall/nft_names.h"
#include "qnet/nft/match.h"
#include "qnet/qube/address.h"
#include "qnet/vpn/capability.h"

namespace qnet::agent {
namespace {

using namespace nft;  // NOLINT: the match builder reads like nft syntax

constexpr const char* kClients4 = "netvm-clients4";
constexpr const char* kClients6 = "netvm-clients6";

Rule R(std::string chain, Exprs e) { return Rule{std::move(chain), std::move(e), std::nullopt}; }

// [iifname . ip saddr] not in the clients set: a spoofed source (contract 8).
Exprs SpoofedSource(bool v6) {
  return Concat(IifNamePrefix("vif"),
                IifnameSaddrIn(v6 ? NfProtoValue::kV6 : NfProtoValue::kV4,
                               v6 ? kClients6 : kClients4, /*invert=*/true),
                Count(), Drop());
}

void AddClientSets(const qube::AgentConfig& c, qube::CapabilityRules& out) {
  Set s4{.name = kClients4, .key = {DataType::kIfname, DataType::kIpv4Addr}};
  std::vector<SetElement> e4;
  Set s6{.name = kClients6, .key = {DataType::kIfname, DataType::kIpv6Addr}};
  std::vector<SetElement> e6;
  for (const qube::Client& cl : c.clients) {
    e4.push_back({.key = ConcatKey({IfnameKey(cl.vif), AddrKey(cl.addr4)})});
    if (cl.addr6) e6.push_back({.key = ConcatKey({IfnameKey(cl.vif), AddrKey(*cl.addr6)})});
  }
  out.sets.push_back({s4, std::move(e4)});
  out.sets.push_back({s6, std::move(e6)});
}

void FillNetvmRules(const qube::AgentConfig& c, qube::CapabilityRules& out) {
  out.chains = {"netvm-input", "netvm-forward", "netvm-output", "netvm-prerouting",
                "netvm-postrouting"};
  AddClientSets(c, out);
  const std::string uplink = c.uplink ? c.uplink->ifname : "eth0";
  auto& r = out.rules;
  // Forward: only from a client, with its own address, to the uplink.
  r.push_back(R("netvm-forward", SpoofedSource(false)));
  if (c.ipv6) {
    r.push_back(R("netvm-forward", SpoofedSource(true)));
    // Router advertisements and redirects from downstream never pass (contract 7).
    for (uint8_t t : {uint8_t{134}, uint8_t{137}})
      r.push_back(R("netvm-forward", Concat(IifNamePrefix("vif"), Icmpv6Type(t), Drop())));
  } else {
    r.push_back(R("netvm-forward", Concat(NfProto(NfProtoValue::kV6), Count(), Drop())));
  }
  r.push_back(
      R("netvm-forward", Concat(IifNamePrefix("vif"), OifNamePrefix("vif"), Count(), Drop())));
  // Only replies toward a client pass on conntrack state alone. Everything a
  // client sends, established flows included, meets its firewall rules, so a
  // rule change cuts an established connection it now denies (the reject
  // sends the client a TCP reset) and leaves allowed ones running.
  r.push_back(R("netvm-forward",
                Concat(OifNamePrefix("vif"), CtStateIn(kCtEstablished | kCtRelated), Accept())));
  r.push_back(R("netvm-forward", Concat(CtStateInvalid(), Drop())));
  // A vpn qube's clients leave by the tunnel (either backend's link; the
  // vpn capability's guard before this has dropped all else), never eth0.
  std::vector<std::string> out_links = {uplink};
  if (c.role == qube::Role::kVpn)
    out_links = {std::string(vpn::TunnelLink(vpn::Backend::kUserspace)),
                 std::string(vpn::TunnelLink(vpn::Backend::kKernel))};
  for (const std::string& out : out_links)
    r.push_back(R("netvm-forward",
                  Concat(IifNamePrefix("vif"), OifName(out), Goto(firewall::kForwardChain))));
  r.push_back(R("netvm-forward", Concat(IifNamePrefix("vif"), Count(), Drop())));

  // Input: a client reaches its netvm only for DNS and ICMP.
  r.push_back(R("netvm-input", SpoofedSource(false)));
  if (c.ipv6) r.push_back(R("netvm-input", SpoofedSource(true)));
  r.push_back(R("netvm-input", Concat(CtStateIn(kCtEstablished | kCtRelated), Accept())));
  r.push_back(R("netvm-input", Concat(IifNamePrefix("vif"), L4Proto(L4::kIcmp), Accept())));
  if (c.ipv6) {
    for (uint8_t t : {uint8_t{128}, uint8_t{129}, uint8_t{1}, uint8_t{2}, uint8_t{3}, uint8_t{4}})
      r.push_back(R("netvm-input", Concat(IifNamePrefix("vif"), Icmpv6Type(t), Accept())));
  }
  r.push_back(R("netvm-input", Concat(IifNamePrefix("vif"), UdpDport(53), Accept())));
  r.push_back(R("netvm-input", Concat(IifNamePrefix("vif"), TcpDport(53), Accept())));

  // The netvm's own traffic leaves as Qubes lets it.
  r.push_back(R("netvm-output", Accept()));

  // Virtual DNS: DNAT to the upstream, or drop when there is none.
  const auto vdns = qube::VirtualDnsServers();
  for (size_t i = 0; i < vdns.size(); ++i) {
    for (L4 proto : {L4::kUdp, L4::kTcp}) {
      Exprs match = Concat(IifNamePrefix("vif"), Ip4Daddr(vdns[i]), L4Proto(proto), Dport(53));
      if (c.dns_upstream.empty()) {
        r.push_back(R("netvm-prerouting", Concat(match, Drop())));
      } else {
        const IpAddr& to = c.dns_upstream[std::min(i, c.dns_upstream.size() - 1)];
        r.push_back(R("netvm-prerouting", Concat(match, Dnat4(to))));
      }
    }
  }
  r.push_back(R("netvm-postrouting", Concat(OifName(uplink), Masquerade())));
}

}  // namespace

qube::CapabilityRules NetvmRules(const qube::AgentConfig& c) {
  qube::CapabilityRules out;
  FillNetvmRules(c, out);
  return out;
}

}  // namespace qnet::agent
