#include "qnet/tor/transparent_rules.h"

#include <gtest/gtest.h>

#include "qnet/nft/base_table.h"
#include "tor_eval.h"

namespace qnet::tor {
namespace {

using nft::Hook;
using testing::Evaluator;
using testing::Outcome;
using testing::Packet;

const IpAddr kGw = *IpAddr::Parse("10.137.0.5");
const IpAddr kWeb = *IpAddr::Parse("203.0.113.10");
const IpAddr kLabDns = *IpAddr::Parse("203.0.113.53");
constexpr uint32_t kTorUid = 107;

GatewayRulesParams Params() {
  GatewayRulesParams p;
  p.uplink = "eth0";
  p.gateway_address = kGw;
  p.tor_uid = kTorUid;
  return p;
}

GatewayRules Build(Gate gate) {
  auto r = BuildGatewayRules(Params(), gate);
  EXPECT_TRUE(r.has_value()) << r.error().message();
  return r.value_or(GatewayRules{});
}

Packet FromWorkstation(uint8_t proto, const IpAddr& dst, uint16_t dport) {
  Packet p;
  p.iifname = "vif12.0";
  p.daddr = dst;
  p.l4proto = proto;
  p.dport = dport;
  return p;
}

TEST(GatewayRules, OpenGateRedirectsTcpToTransPortAndDnsToDnsPort) {
  GatewayRules rules = Build(Gate::kOpen);
  Evaluator eval(rules);
  auto tcp = eval.Run(Hook::kPrerouting, FromWorkstation(6, kWeb, 80));
  EXPECT_EQ(tcp.outcome, Outcome::kDnat);
  EXPECT_EQ(tcp.dnat_addr, kGw);
  EXPECT_EQ(tcp.dnat_port, 9040);
  for (uint8_t proto : {uint8_t{6}, uint8_t{17}}) {
    auto dns =
        eval.Run(Hook::kPrerouting, FromWorkstation(proto, *IpAddr::Parse("10.139.1.1"), 53));
    EXPECT_EQ(dns.outcome, Outcome::kDnat);
    EXPECT_EQ(dns.dnat_port, 5300);
    // DNS sent straight to the lab's server goes to DNSPort too.
    EXPECT_EQ(eval.Run(Hook::kPrerouting, FromWorkstation(proto, kLabDns, 53)).dnat_port, 5300);
  }
  // After DNAT the packet reaches TransPort/DNSPort on the gateway: accepted.
  EXPECT_EQ(eval.Run(Hook::kInput, FromWorkstation(6, kGw, 9040)).outcome, Outcome::kAccept);
  EXPECT_EQ(eval.Run(Hook::kInput, FromWorkstation(17, kGw, 5300)).outcome, Outcome::kAccept);
  EXPECT_EQ(eval.Run(Hook::kInput, FromWorkstation(6, kGw, 9050)).outcome, Outcome::kAccept);
}

TEST(GatewayRules, NothingElseFromDownstreamIsForwardedOrLetIn) {
  GatewayRules rules = Build(Gate::kOpen);
  Evaluator eval(rules);
  // UDP other than DNS and ICMP: not redirected, and the forward chain drops them.
  auto udp = FromWorkstation(17, kWeb, 7);
  EXPECT_EQ(eval.Run(Hook::kPrerouting, udp).outcome, Outcome::kNoVerdict);
  auto fwd = eval.Run(Hook::kForward, udp);
  EXPECT_EQ(fwd.outcome, Outcome::kDrop);
  EXPECT_EQ(fwd.counters, std::vector<std::string>{"tor-forward-drop"});
  Packet icmp = FromWorkstation(1, kWeb, 0);
  icmp.icmp_type = 8;
  EXPECT_EQ(eval.Run(Hook::kPrerouting, icmp).outcome, Outcome::kNoVerdict);
  EXPECT_EQ(eval.Run(Hook::kForward, icmp).outcome, Outcome::kDrop);
  // A non-SYN TCP packet is not redirected; forwarding it is refused.
  Packet ack = FromWorkstation(6, kWeb, 80);
  ack.tcp_flags = 0x10;
  EXPECT_EQ(eval.Run(Hook::kPrerouting, ack).outcome, Outcome::kNoVerdict);
  EXPECT_NE(eval.Run(Hook::kForward, ack).outcome, Outcome::kAccept);
  // IPv6 from downstream: never redirected, dropped on every path.
  Packet v6 = FromWorkstation(6, *IpAddr::Parse("2001:db8:2::10"), 80);
  v6.v6 = true;
  EXPECT_EQ(eval.Run(Hook::kPrerouting, v6).outcome, Outcome::kNoVerdict);
  EXPECT_EQ(eval.Run(Hook::kForward, v6).outcome, Outcome::kDrop);
  EXPECT_EQ(eval.Run(Hook::kInput, v6).outcome, Outcome::kDrop);
  // The gateway itself, other ports: TCP reset, UDP/ICMP dropped and counted.
  EXPECT_EQ(eval.Run(Hook::kInput, FromWorkstation(6, kGw, 22)).outcome, Outcome::kRejectTcpReset);
  auto in_udp = eval.Run(Hook::kInput, FromWorkstation(17, kGw, 123));
  EXPECT_EQ(in_udp.outcome, Outcome::kDrop);
  EXPECT_EQ(in_udp.counters, std::vector<std::string>{"tor-downstream-drop"});
  // Forwarded traffic from the uplink side is dropped too.
  Packet in_from_uplink = FromWorkstation(6, *IpAddr::Parse("10.137.0.12"), 22);
  in_from_uplink.iifname = "eth0";
  EXPECT_EQ(eval.Run(Hook::kForward, in_from_uplink).outcome, Outcome::kDrop);
}

TEST(GatewayRules, ClosedGateRefusesAtOnceAndRedirectsNothing) {
  GatewayRules rules = Build(Gate::kClosed);
  Evaluator eval(rules);
  auto tcp = FromWorkstation(6, kWeb, 80);
  EXPECT_EQ(eval.Run(Hook::kPrerouting, tcp).outcome, Outcome::kNoVerdict);
  auto refused = eval.Run(Hook::kForward, tcp);
  EXPECT_EQ(refused.outcome, Outcome::kRejectTcpReset);
  EXPECT_EQ(refused.counters, std::vector<std::string>{"tor-refused"});
  auto dns = FromWorkstation(17, *IpAddr::Parse("10.139.1.1"), 53);
  EXPECT_EQ(eval.Run(Hook::kPrerouting, dns).outcome, Outcome::kNoVerdict);
  EXPECT_EQ(eval.Run(Hook::kForward, dns).outcome, Outcome::kRejectPortUnreachable);
  // Straight at the gateway's tor ports: refused as well, never accepted.
  EXPECT_EQ(eval.Run(Hook::kInput, FromWorkstation(6, kGw, 9040)).outcome,
            Outcome::kRejectTcpReset);
  EXPECT_EQ(eval.Run(Hook::kInput, FromWorkstation(17, kGw, 5300)).outcome,
            Outcome::kRejectPortUnreachable);
  // Positive control: the same packets with the gate open are redirected/accepted.
  GatewayRules open = Build(Gate::kOpen);
  Evaluator eval_open(open);
  EXPECT_EQ(eval_open.Run(Hook::kPrerouting, tcp).outcome, Outcome::kDnat);
  EXPECT_EQ(eval_open.Run(Hook::kInput, FromWorkstation(6, kGw, 9040)).outcome, Outcome::kAccept);
}

TEST(GatewayRules, OnlyTorsUidReachesTheUplink) {
  GatewayRules rules = Build(Gate::kOpen);
  Evaluator eval(rules);
  Packet out;
  out.oifname = "eth0";
  out.daddr = *IpAddr::Parse("203.0.113.31");
  out.dport = 9001;
  out.skuid = kTorUid;
  EXPECT_EQ(eval.Run(Hook::kOutput, out).outcome, Outcome::kAccept);
  for (uint32_t uid : {0u, 1000u, kTorUid + 1}) {
    out.skuid = uid;
    auto r = eval.Run(Hook::kOutput, out);
    EXPECT_EQ(r.outcome, Outcome::kDrop) << uid;
    EXPECT_EQ(r.counters, std::vector<std::string>{"tor-uplink-drop"});
  }
  // Downstream: replies and the refusals may go out, nothing new.
  Packet down;
  down.oifname = "vif12.0";
  down.daddr = *IpAddr::Parse("10.137.0.12");
  down.ct_state = nft::kCtEstablished;
  EXPECT_EQ(eval.Run(Hook::kOutput, down).outcome, Outcome::kAccept);
  down.ct_state = nft::kCtNew;
  down.tcp_flags = 0x14;  // RST+ACK
  EXPECT_EQ(eval.Run(Hook::kOutput, down).outcome, Outcome::kAccept);
  down.tcp_flags = 0x02;
  EXPECT_EQ(eval.Run(Hook::kOutput, down).outcome, Outcome::kNoVerdict);  // base chain drops
}

TEST(GatewayRules, GateFlipIsOneTransactionOnTheGateSetOnly) {
  nft::Batch open = GateBatch(Gate::kOpen);
  ASSERT_TRUE(open.status().ok()) << open.status().error().message();
  for (const nft::Op& op : open.ops()) {
    EXPECT_NE(op.kind, nft::Op::Kind::kNewRule);
    EXPECT_NE(op.kind, nft::Op::Kind::kFlushChain);
  }
  EXPECT_EQ(GateSetContents(Gate::kOpen).elements.size(), 2u);
  EXPECT_TRUE(GateSetContents(Gate::kClosed).elements.empty());
}

TEST(GatewayRules, ApplyBatchPassesTheNftLayersChecks) {
  nft::Batch b = ApplyBatch(Build(Gate::kClosed));
  ASSERT_TRUE(b.status().ok()) << b.status().error().message();
  EXPECT_GT(b.Encode().size(), 0u);
}

TEST(GatewayRules, RefusesBadParameters) {
  auto bad = [](auto edit) {
    GatewayRulesParams p = Params();
    edit(p);
    return BuildGatewayRules(p, Gate::kClosed).has_value();
  };
  EXPECT_FALSE(bad([](auto& p) { p.tor_uid = 0; }));
  EXPECT_FALSE(bad([](auto& p) { p.gateway_address = *IpAddr::Parse("fd09::5"); }));
  EXPECT_FALSE(bad([](auto& p) { p.uplink = ""; }));
  EXPECT_FALSE(bad([](auto& p) { p.uplink = "an-interface-name-too-long"; }));
  EXPECT_FALSE(bad([](auto& p) { p.dns_port = p.trans_port; }));
  EXPECT_TRUE(bad([](auto&) {}));
}

}  // namespace
}  // namespace qnet::tor
