// CompileKillSwitch: the vpn capability's guard chains (see kill_switch.h).
#include "qnet/vpn/kill_switch.h"

#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "qnet/netlink/link.h"
#include "qnet/nft/match.h"
#include "qnet/qube/address.h"

namespace qnet::vpn {
namespace {

using namespace nft;  // NOLINT: the match builders read like nft syntax

constexpr std::string_view kVifPrefix = "vif";
constexpr uint32_t kThSportOffset = 0;
constexpr uint32_t kThDportOffset = 2;

// `ip daddr . th dport @set` (or saddr . sport): a concatenation loaded as
// nft lays it out, the address from NFT_REG_1 and the port in the 32-bit
// register after it (the address padded to 4 bytes). After an IPv6 address
// that register is the start of NFT_REG_2, the name the kernel reports back.
Exprs AddrPortIn(bool v4, bool source, std::string_view set) {
  const uint32_t addr_offset = v4 ? (source ? 12u : 16u) : (source ? 8u : 24u);
  const uint32_t port_reg = v4 ? NFT_REG32_01 : NFT_REG_2;
  Exprs out = Concat(NfProto(v4 ? NfProtoValue::kV4 : NfProtoValue::kV6), L4Proto(L4::kUdp));
  out.push_back(Payload{NFT_PAYLOAD_NETWORK_HEADER, addr_offset, v4 ? 4u : 16u, NFT_REG_1});
  out.push_back(
      Payload{NFT_PAYLOAD_TRANSPORT_HEADER, source ? kThSportOffset : kThDportOffset, 2, port_reg});
  out.push_back(Lookup{std::string(set), NFT_REG_1, std::nullopt, false});
  return out;
}

Exprs MetaMark(uint32_t mark) {
  Bytes b(4);
  std::memcpy(b.data(), &mark, 4);  // meta values are in host order
  return {Meta{NFT_META_MARK, NFT_REG_1}, Cmp{NFT_CMP_EQ, NFT_REG_1, b}};
}

class Builder {
 public:
  explicit Builder(const KillSwitchInput& in) : in_(in) {}

  KillSwitchRules Build() {
    for (Hook h :
         {Hook::kInput, Hook::kForward, Hook::kOutput, Hook::kPrerouting, Hook::kPostrouting})
      out_.chains.push_back(Chain{CapabilityChainName(kVpnCapability, h), std::nullopt});
    out_.sets = EndpointSets(in_.endpoints);
    out_.counters = {CounterObject{std::string(kDropForwardCounter)},
                     CounterObject{std::string(kDropOutputCounter)},
                     CounterObject{std::string(kDropDnsCounter)}};
    Forward();
    Output();
    Input();
    Prerouting();
    Add(Hook::kPostrouting, Concat(OifName(in_.tunnel), Masquerade()), "clients behind the tunnel");
    return std::move(out_);
  }

 private:
  void Add(Hook h, Exprs e, std::string_view why) {
    out_.rules.push_back(
        Rule{CapabilityChainName(kVpnCapability, h), std::move(e), fmt::format("vpn: {}", why)});
  }
  Exprs DropCounted(std::string_view counter) { return Concat(CountNamed(counter), Drop()); }

  bool TunnelHasIpv6() const {
    return std::any_of(in_.config->interface.addresses.begin(),
                       in_.config->interface.addresses.end(),
                       [](const IpPrefix& p) { return p.addr().is_v6(); });
  }

  void Forward() {
    const Hook h = Hook::kForward;
    if (in_.backend == Backend::kUserspace) {
      for (bool v4 : {true, false})
        Add(h,
            Concat(IifName(in_.tunnel), OifName(in_.uplink),
                   AddrPortIn(v4, false, v4 ? kEndpointSet4 : kEndpointSet6), Accept()),
            "wireguard-go's UDP to an endpoint");
      Add(h,
          Concat(IifName(in_.uplink), OifName(in_.tunnel), CtStateIn(kCtEstablished | kCtRelated),
                 Accept()),
          "replies from an endpoint");
    }
    Add(h, Concat(IifName(in_.uplink), DropCounted(kDropForwardCounter)),
        "nothing from the uplink is forwarded");
    Add(h, Concat(OifName(in_.uplink), DropCounted(kDropForwardCounter)),
        "nothing else is forwarded to the uplink");
    if (!(TunnelHasIpv6() && in_.chain_routes_ipv6))
      Add(h, Concat(NfProto(NfProtoValue::kV6), DropCounted(kDropForwardCounter)),
          "IPv6 is not tunnelled");
    Add(h, Concat(IifNamePrefix(kVifPrefix), OifName(in_.tunnel), Return()),
        "clients into the tunnel, on to their firewall rules");
    Add(h, Concat(IifNamePrefix(kVifPrefix), DropCounted(kDropForwardCounter)),
        "clients' traffic leaves by the tunnel or not at all");
  }

  bool AnyEndpointIsAName() const {
    return std::any_of(in_.config->peers.begin(), in_.config->peers.end(),
                       [](const WgPeer& p) { return !p.endpoint.Address().has_value(); });
  }

  void Output() {
    const Hook h = Hook::kOutput;
    if (in_.backend == Backend::kKernel) {
      for (bool v4 : {true, false}) {
        Exprs match = OifName(in_.uplink);
        if (in_.fwmark && *in_.fwmark != 0) match = Concat(match, MetaMark(*in_.fwmark));
        Add(h, Concat(match, AddrPortIn(v4, false, v4 ? kEndpointSet4 : kEndpointSet6), Accept()),
            "the tunnel's UDP to an endpoint");
      }
    }
    if (AnyEndpointIsAName()) {
      for (const IpAddr& dns : qube::VirtualDnsServers())
        for (L4 proto : {L4::kUdp, L4::kTcp})
          Add(h, Concat(OifName(in_.uplink), Ip4Daddr(dns), L4Proto(proto), Dport(53), Accept()),
              "resolving an endpoint name through the upstream");
    }
    Add(h, Concat(OifName(in_.uplink), DropCounted(kDropOutputCounter)),
        "the qube's own traffic reaches the uplink only as the tunnel");
  }

  void Input() {
    if (in_.backend != Backend::kKernel) return;
    for (bool v4 : {true, false})
      Add(Hook::kInput,
          Concat(IifName(in_.uplink), AddrPortIn(v4, true, v4 ? kEndpointSet4 : kEndpointSet6),
                 Accept()),
          "UDP from an endpoint");
  }

  void Prerouting() {
    std::vector<IpAddr> dns4;
    for (const IpAddr& a : in_.config->interface.dns)
      if (a.is_v4()) dns4.push_back(a);
    const auto vdns = qube::VirtualDnsServers();
    for (size_t i = 0; i < vdns.size(); ++i) {
      for (L4 proto : {L4::kUdp, L4::kTcp}) {
        Exprs match =
            Concat(IifNamePrefix(kVifPrefix), Ip4Daddr(vdns[i]), L4Proto(proto), Dport(53));
        if (dns4.empty())
          Add(Hook::kPrerouting, Concat(match, DropCounted(kDropDnsCounter)),
              "the config names no DNS server: clients' DNS goes nowhere");
        else
          Add(Hook::kPrerouting, Concat(match, Dnat4(dns4[std::min(i, dns4.size() - 1)])),
              "clients' DNS to the config's servers, through the tunnel");
      }
    }
  }

  const KillSwitchInput& in_;
  KillSwitchRules out_;
};

}  // namespace

std::vector<nft::SetContents> EndpointSets(const std::vector<SocketAddr>& endpoints) {
  nft::SetContents s4{.set = {.name = std::string(kEndpointSet4),
                              .key = {nft::DataType::kIpv4Addr, nft::DataType::kInetService}},
                      .elements = {}};
  nft::SetContents s6{.set = {.name = std::string(kEndpointSet6),
                              .key = {nft::DataType::kIpv6Addr, nft::DataType::kInetService}},
                      .elements = {}};
  for (const SocketAddr& ep : endpoints) {
    nft::SetElement e{.key = nft::ConcatKey({nft::AddrKey(ep.addr), nft::PortKey(ep.port)})};
    auto& elements = ep.addr.is_v4() ? s4.elements : s6.elements;
    if (std::find(elements.begin(), elements.end(), e) == elements.end()) elements.push_back(e);
  }
  return {std::move(s4), std::move(s6)};
}

Result<KillSwitchRules> CompileKillSwitch(const KillSwitchInput& in) {
  auto bad = [](std::string what) {
    return Fail(Errc::kInvalidArgument, fmt::format("vpn kill switch: {}", what));
  };
  if (in.config == nullptr) return bad("no wg-quick config");
  for (const auto& [field, name] : {std::pair{"uplink", &in.uplink}, {"tunnel", &in.tunnel}}) {
    Status s = netlink::ValidateIfName(*name);
    if (!s) return bad(fmt::format("{}: {}", field, s.error().message()));
  }
  if (in.uplink == in.tunnel) return bad(fmt::format("tunnel and uplink are both {}", in.uplink));
  for (const std::string* name : {&in.uplink, &in.tunnel})
    if (name->starts_with(kVifPrefix))
      return bad(fmt::format("{}: \"vif\" names are the clients' links", *name));
  if (in.endpoints.empty() && !in.closed) return bad("no endpoint to let out");
  return Builder(in).Build();
}

Result<std::vector<SocketAddr>> ResolveEndpoints(
    const WgQuickConfig& config,
    const std::vector<std::pair<std::string, std::vector<IpAddr>>>& resolved) {
  std::vector<SocketAddr> out;
  auto add = [&out](SocketAddr a) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  };
  for (const WgPeer& p : config.peers) {
    if (auto addr = p.endpoint.Address()) {
      add(SocketAddr{*addr, p.endpoint.port});
      continue;
    }
    auto it = std::find_if(resolved.begin(), resolved.end(),
                           [&](const auto& r) { return r.first == p.endpoint.host; });
    if (it == resolved.end() || it->second.empty())
      return Fail(Errc::kUnavailable,
                  fmt::format("vpn endpoint {}: no addresses (not resolved)", p.endpoint.host));
    for (const IpAddr& a : it->second) add(SocketAddr{a, p.endpoint.port});
  }
  return out;
}

nft::Batch KillSwitchBatch(const KillSwitchRules& ks) {
  nft::Batch b;
  for (const nft::CounterObject& c : ks.counters) b.AddCounter(nft::QnetTable(), c);
  std::map<std::string, std::vector<nft::Rule>> chains;
  for (const nft::Chain& c : ks.chains) chains[c.name];
  for (const nft::Rule& r : ks.rules) chains[r.chain].push_back(r);
  b.Append(nft::ReplaceChainsBatch(chains, ks.sets));
  return b;
}

}  // namespace qnet::vpn
