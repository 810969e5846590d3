#include "qnet/tor/transparent_rules.h"

#include <fmt/format.h>
#include <net/if.h>

#include "qnet/nft/match.h"

namespace qnet::tor {
namespace {

using nft::Concat;
using nft::Exprs;
using nft::L4;

std::string Chain(nft::Hook hook) { return nft::CapabilityChainName(kCapability, hook); }

Exprs Downstream() { return nft::IifNamePrefix(kDownstreamPrefix); }
Exprs V4() { return nft::NfProto(nft::NfProtoValue::kV4); }

// `meta l4proto <p>` then `meta l4proto [!=] @tor-open` on the same register.
Exprs ProtoGate(L4 p, bool open) {
  return Concat(nft::L4Proto(p),
                Exprs{nft::Lookup{std::string(kGateSet), NFT_REG_1, std::nullopt, !open}});
}

// tcp flags & (fin|syn|rst|ack) == syn: a connection's first packet.
Exprs TcpSyn() {
  return {nft::Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1, NFT_REG_1},
          nft::Bitwise{NFT_REG_1, NFT_REG_1, 1, nft::Bytes{0x17}, nft::Bytes{0x00}},
          nft::Cmp{NFT_CMP_EQ, NFT_REG_1, nft::Bytes{0x02}}};
}
Exprs TcpRst() {
  return {nft::Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1, NFT_REG_1},
          nft::Bitwise{NFT_REG_1, NFT_REG_1, 1, nft::Bytes{0x04}, nft::Bytes{0x00}},
          nft::Cmp{NFT_CMP_NEQ, NFT_REG_1, nft::Bytes{0x00}}};
}
Exprs RejectPortUnreachable() {
  return {nft::Reject{NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_PORT_UNREACH}};
}
Exprs Established() { return nft::CtStateIn(nft::kCtEstablished | nft::kCtRelated); }
Exprs Refused() { return nft::CountNamed(kRefusedCounter); }

nft::Rule R(nft::Hook hook, Exprs exprs, std::string comment) {
  return nft::Rule{Chain(hook), std::move(exprs), std::move(comment)};
}

std::vector<nft::Rule> Prerouting(const GatewayRulesParams& p) {
  using nft::Hook;
  const Hook h = Hook::kPrerouting;
  const IpAddr& gw = p.gateway_address;
  return {
      R(h,
        Concat(Downstream(), V4(), ProtoGate(L4::kUdp, true), nft::Dport(53),
               nft::Dnat4(gw, p.dns_port)),
        "dns udp to DNSPort"),
      R(h,
        Concat(Downstream(), V4(), ProtoGate(L4::kTcp, true), nft::Dport(53),
               nft::Dnat4(gw, p.dns_port)),
        "dns tcp to DNSPort"),
      R(h,
        Concat(Downstream(), V4(), ProtoGate(L4::kTcp, true), TcpSyn(),
               nft::Dnat4(gw, p.trans_port)),
        "tcp to TransPort"),
  };
}

std::vector<nft::Rule> Input(const GatewayRulesParams& p) {
  using nft::Hook;
  const Hook h = Hook::kInput;
  const IpAddr& gw = p.gateway_address;
  std::vector<nft::Rule> out = {
      R(h, Concat(Downstream(), Established(), nft::Accept()), "replies")};
  for (uint16_t port : {p.trans_port, p.socks_port, p.dns_port}) {
    out.push_back(R(h,
                    Concat(Downstream(), nft::Ip4Daddr(gw), ProtoGate(L4::kTcp, true),
                           nft::Dport(port), nft::Count(), nft::Accept()),
                    fmt::format("tor tcp port {}", port)));
  }
  out.push_back(R(h,
                  Concat(Downstream(), nft::Ip4Daddr(gw), ProtoGate(L4::kUdp, true),
                         nft::Dport(p.dns_port), nft::Count(), nft::Accept()),
                  "DNSPort udp"));
  out.push_back(
      R(h, Concat(Downstream(), V4(), nft::L4Proto(L4::kTcp), Refused(), nft::RejectTcpReset()),
        "refused: other tcp"));
  for (uint16_t port : {uint16_t{53}, p.dns_port}) {
    out.push_back(R(h,
                    Concat(Downstream(), V4(), nft::L4Proto(L4::kUdp), nft::Dport(port), Refused(),
                           RejectPortUnreachable()),
                    "refused: dns"));
  }
  out.push_back(R(h, Concat(Downstream(), nft::CountNamed(kDownstreamDropCounter), nft::Drop()),
                  "downstream drop"));
  out.push_back(
      R(h, Concat(nft::IifName(p.uplink), Established(), nft::Accept()), "tor's connections"));
  return out;
}

std::vector<nft::Rule> Forward() {
  using nft::Hook;
  const Hook h = Hook::kForward;
  return {
      R(h, Concat(Downstream(), V4(), ProtoGate(L4::kTcp, false), Refused(), nft::RejectTcpReset()),
        "refused: tcp before bootstrap"),
      R(h,
        Concat(Downstream(), V4(), ProtoGate(L4::kUdp, false), nft::Dport(53), Refused(),
               RejectPortUnreachable()),
        "refused: dns before bootstrap"),
      R(h, Concat(nft::CountNamed(kForwardDropCounter), nft::Drop()), "never forward"),
  };
}

std::vector<nft::Rule> Output(const GatewayRulesParams& p) {
  using nft::Hook;
  const Hook h = Hook::kOutput;
  const std::string vif(kDownstreamPrefix);
  return {
      R(h, Concat(nft::OifName(p.uplink), nft::SkUid(p.tor_uid), nft::Accept()), "only tor's uid"),
      R(h, Concat(nft::OifNamePrefix(vif), Established(), nft::Accept()), "replies downstream"),
      R(h, Concat(nft::OifNamePrefix(vif), nft::L4Proto(L4::kTcp), TcpRst(), nft::Accept()),
        "refusals: tcp reset"),
      R(h, Concat(nft::OifNamePrefix(vif), nft::IcmpType(3), nft::Accept()),
        "refusals: port unreachable"),
      R(h, Concat(nft::OifName(p.uplink), nft::CountNamed(kUplinkDropCounter), nft::Drop()),
        "uplink: nothing but tor"),
  };
}

}  // namespace

nft::SetContents GateSetContents(Gate gate) {
  nft::SetContents s;
  s.set.name = std::string(kGateSet);
  s.set.key = {nft::DataType::kInetProto};
  if (gate == Gate::kOpen) {
    s.elements.push_back(nft::SetElement{nft::Bytes{static_cast<uint8_t>(L4::kTcp)}});
    s.elements.push_back(nft::SetElement{nft::Bytes{static_cast<uint8_t>(L4::kUdp)}});
  }
  return s;
}

nft::Batch ApplyBatch(const GatewayRules& rules) {
  nft::Batch b;
  for (const nft::CounterObject& c : rules.counters) b.AddCounter(nft::QnetTable(), c);
  b.Append(nft::ReplaceChainsBatch(rules.chains, rules.sets));
  return b;
}

nft::Batch GateBatch(Gate gate) { return nft::ReplaceChainsBatch({}, {GateSetContents(gate)}); }

Result<GatewayRules> BuildGatewayRules(const GatewayRulesParams& p, Gate gate) {
  if (!p.gateway_address.is_v4())
    return Fail(Errc::kInvalidArgument, "tor rules: the gateway address must be IPv4");
  if (p.tor_uid == 0)
    return Fail(Errc::kInvalidArgument, "tor rules: tor's uid must not be 0 (root)");
  if (p.uplink.empty() || p.uplink.size() >= IFNAMSIZ)
    return Fail(Errc::kInvalidArgument,
                fmt::format("tor rules: uplink '{}' is not an interface name", p.uplink));
  if (p.trans_port == 0 || p.dns_port == 0 || p.socks_port == 0 || p.trans_port == p.dns_port ||
      p.trans_port == p.socks_port || p.dns_port == p.socks_port)
    return Fail(Errc::kInvalidArgument,
                "tor rules: TransPort, DNSPort and SocksPort must be distinct and non-zero");
  GatewayRules out;
  out.chains[Chain(nft::Hook::kPrerouting)] = Prerouting(p);
  out.chains[Chain(nft::Hook::kInput)] = Input(p);
  out.chains[Chain(nft::Hook::kForward)] = Forward();
  out.chains[Chain(nft::Hook::kOutput)] = Output(p);
  out.chains[Chain(nft::Hook::kPostrouting)] = {};
  out.sets.push_back(GateSetContents(gate));
  for (std::string_view c :
       {kRefusedCounter, kDownstreamDropCounter, kForwardDropCounter, kUplinkDropCounter})
    out.counters.push_back(nft::CounterObject{std::string(c)});
  return out;
}

}  // namespace qnet::tor
