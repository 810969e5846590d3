#include "qnet/vpn/kill_switch.h"

#include <gtest/gtest.h>

#include "nft_eval.h"
#include "qnet/nft/base_table.h"

namespace qnet::vpn {
namespace {

using testing::Evaluator;
using testing::Outcome;
using testing::OutcomeName;
using testing::Packet;

constexpr const char* kPriv = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
constexpr const char* kPub = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

IpAddr Ip(std::string_view s) { return *IpAddr::Parse(s); }

WgQuickConfig Config(std::string_view extra_interface = "",
                     std::string_view endpoint = "203.0.113.20:51820") {
  auto c = ParseWgQuick(fmt::format("[Interface]\nPrivateKey = {}\nAddress = 10.64.0.2/32\n{}\n"
                                    "[Peer]\nPublicKey = {}\nEndpoint = {}\n"
                                    "AllowedIPs = 0.0.0.0/0, ::/0\n",
                                    kPriv, extra_interface, kPub, endpoint),
                        "test.conf");
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c.has_value() ? *c : WgQuickConfig{};
}

struct Setup {
  WgQuickConfig config;
  KillSwitchInput in;
  KillSwitchRules rules;
};

// kernel: wg0 in the qube; userspace: wgns0 leads into wireguard-go's namespace.
std::unique_ptr<Setup> Make(Backend backend, WgQuickConfig config, bool routes_ipv6 = false,
                            std::vector<SocketAddr> endpoints = {
                                SocketAddr{Ip("203.0.113.20"), 51820}}) {
  auto s = std::make_unique<Setup>();
  s->config = std::move(config);
  s->in = KillSwitchInput{.config = &s->config,
                          .backend = backend,
                          .uplink = "eth0",
                          .tunnel = backend == Backend::kKernel ? "wg0" : "wgns0",
                          .endpoints = std::move(endpoints),
                          .chain_routes_ipv6 = routes_ipv6,
                          .fwmark = std::nullopt};
  auto r = CompileKillSwitch(s->in);
  EXPECT_TRUE(r.has_value()) << r.error().message();
  if (r.has_value()) s->rules = *r;
  return s;
}

Packet Pkt(std::string iif, std::string oif, std::string_view src, std::string_view dst,
           uint8_t proto = 6, uint16_t dport = 80) {
  return Packet{.iifname = std::move(iif),
                .oifname = std::move(oif),
                .saddr = Ip(src),
                .daddr = Ip(dst),
                .l4proto = proto,
                .dport = dport};
}

void Expect(Evaluator& ev, std::string_view chain, const Packet& p, Outcome want,
            std::string_view counter = "") {
  auto v = ev.Run(std::string(chain), p);
  EXPECT_EQ(v.outcome, want) << chain << " " << p.iifname << "->" << p.oifname << " "
                             << p.saddr.ToString() << "->" << p.daddr.ToString() << ":" << p.dport
                             << " proto " << int(p.l4proto) << ": got " << OutcomeName(v.outcome);
  if (!counter.empty()) {
    EXPECT_EQ(v.counter, counter);
  }
}

TEST(KillSwitch, ForwardedClientTrafficLeavesOnlyByTheTunnel) {
  for (Backend b : {Backend::kKernel, Backend::kUserspace}) {
    auto s = Make(b, Config());
    Evaluator ev(s->rules);
    const std::string tun = s->in.tunnel;
    // Positive: into the tunnel, handed on to the client's firewall rules.
    Expect(ev, "vpn-forward", Pkt("vif12.0", tun, "10.137.0.12", "203.0.113.10"), Outcome::kReturn);
    Expect(ev, "vpn-forward", Pkt("vif12.0", tun, "10.137.0.12", "203.0.113.53", 17, 53),
           Outcome::kReturn);
    // Negative: to the uplink (as after the tunnel is deleted and the
    // default route is all that is left), even to the endpoint itself.
    Expect(ev, "vpn-forward", Pkt("vif12.0", "eth0", "10.137.0.12", "203.0.113.10"), Outcome::kDrop,
           kDropForwardCounter);
    Expect(ev, "vpn-forward", Pkt("vif12.0", "eth0", "10.137.0.12", "203.0.113.20", 17, 51820),
           Outcome::kDrop, kDropForwardCounter);
    Expect(ev, "vpn-forward", Pkt("vif12.0", "eth0", "10.137.0.12", "203.0.113.53", 17, 53),
           Outcome::kDrop, kDropForwardCounter);
    // Nor to another client, nor an interface that merely starts like the tunnel.
    Expect(ev, "vpn-forward", Pkt("vif12.0", "vif13.0", "10.137.0.12", "10.137.0.13"),
           Outcome::kDrop, kDropForwardCounter);
    Expect(ev, "vpn-forward", Pkt("vif12.0", tun + "x", "10.137.0.12", "203.0.113.10"),
           Outcome::kDrop, kDropForwardCounter);
    // Nothing from the uplink is forwarded inward.
    Expect(ev, "vpn-forward", Pkt("eth0", "vif12.0", "203.0.113.10", "10.137.0.12"), Outcome::kDrop,
           kDropForwardCounter);
    // Replies from the tunnel to a client go on to the netvm's conntrack rule.
    Expect(ev, "vpn-forward", Pkt(tun, "vif12.0", "203.0.113.10", "10.137.0.12"), Outcome::kReturn);
  }
}

TEST(KillSwitch, UserspaceDaemonReachesOnlyTheEndpoints) {
  auto s = Make(Backend::kUserspace, Config(), false,
                {SocketAddr{Ip("203.0.113.20"), 51820}, SocketAddr{Ip("2001:db8:2::20"), 51820}});
  Evaluator ev(s->rules);
  Expect(ev, "vpn-forward", Pkt("wgns0", "eth0", "10.200.0.2", "203.0.113.20", 17, 51820),
         Outcome::kAccept);
  Expect(ev, "vpn-forward", Pkt("wgns0", "eth0", "fd00::2", "2001:db8:2::20", 17, 51820),
         Outcome::kAccept);
  // Wrong port, wrong address, TCP to the right address and port: dropped.
  Expect(ev, "vpn-forward", Pkt("wgns0", "eth0", "10.200.0.2", "203.0.113.20", 17, 51821),
         Outcome::kDrop, kDropForwardCounter);
  Expect(ev, "vpn-forward", Pkt("wgns0", "eth0", "10.200.0.2", "203.0.113.21", 17, 51820),
         Outcome::kDrop, kDropForwardCounter);
  Expect(ev, "vpn-forward", Pkt("wgns0", "eth0", "10.200.0.2", "203.0.113.20", 6, 51820),
         Outcome::kDrop, kDropForwardCounter);
  // Replies come back; nothing new does.
  Packet reply = Pkt("eth0", "wgns0", "203.0.113.20", "10.200.0.2", 17, 40000);
  reply.ct_state = nft::kCtEstablished;
  Expect(ev, "vpn-forward", reply, Outcome::kAccept);
  reply.ct_state = nft::kCtNew;
  Expect(ev, "vpn-forward", reply, Outcome::kDrop, kDropForwardCounter);
  // The qube's own processes do not reach the endpoint: only the daemon's namespace does.
  Expect(ev, "vpn-output", Pkt("", "eth0", "198.51.100.2", "203.0.113.20", 17, 51820),
         Outcome::kDrop, kDropOutputCounter);
}

TEST(KillSwitch, KernelTunnelSocketReachesOnlyTheEndpoints) {
  auto s = Make(Backend::kKernel, Config());
  Evaluator ev(s->rules);
  Expect(ev, "vpn-output", Pkt("", "eth0", "198.51.100.2", "203.0.113.20", 17, 51820),
         Outcome::kAccept);
  Expect(ev, "vpn-output", Pkt("", "eth0", "198.51.100.2", "203.0.113.10", 6, 80), Outcome::kDrop,
         kDropOutputCounter);
  Expect(ev, "vpn-output", Pkt("", "eth0", "198.51.100.2", "203.0.113.53", 17, 53), Outcome::kDrop,
         kDropOutputCounter);
  // The qube's own traffic into the tunnel goes on to the netvm's output rule.
  Expect(ev, "vpn-output", Pkt("", "wg0", "10.64.0.2", "203.0.113.10"), Outcome::kReturn);
  Packet in = Pkt("eth0", "", "203.0.113.20", "198.51.100.2", 17, 40000);
  in.sport = 51820;
  Expect(ev, "vpn-input", in, Outcome::kAccept);
  in.sport = 51821;
  Expect(ev, "vpn-input", in, Outcome::kReturn);  // the base chain drops it

  // With a fwmark, only the tunnel's marked socket gets out.
  s->in.fwmark = 0x51820;
  auto marked = CompileKillSwitch(s->in);
  ASSERT_TRUE(marked.has_value());
  Evaluator ev2(*marked);
  Packet udp = Pkt("", "eth0", "198.51.100.2", "203.0.113.20", 17, 51820);
  Expect(ev2, "vpn-output", udp, Outcome::kDrop, kDropOutputCounter);
  udp.mark = 0x51820;
  Expect(ev2, "vpn-output", udp, Outcome::kAccept);
}

TEST(KillSwitch, ClientDnsGoesToTheConfigsServersThroughTheTunnelOrNowhere) {
  auto s = Make(Backend::kKernel, Config("DNS = 10.64.0.1, 10.64.0.3, lab.example"));
  Evaluator ev(s->rules);
  for (uint8_t proto : {uint8_t{17}, uint8_t{6}}) {
    auto v = ev.Run("vpn-prerouting", Pkt("vif12.0", "", "10.137.0.12", "10.139.1.1", proto, 53));
    EXPECT_EQ(v.outcome, Outcome::kDnat);
    EXPECT_EQ(v.dnat_to, Ip("10.64.0.1"));
    v = ev.Run("vpn-prerouting", Pkt("vif12.0", "", "10.137.0.12", "10.139.1.2", proto, 53));
    EXPECT_EQ(v.dnat_to, Ip("10.64.0.3"));
  }
  // Other traffic is not touched here.
  Expect(ev, "vpn-prerouting", Pkt("vif12.0", "", "10.137.0.12", "203.0.113.53", 17, 53),
         Outcome::kReturn);
  // After the DNAT: through the tunnel on to the firewall, never the uplink.
  Expect(ev, "vpn-forward", Pkt("vif12.0", "wg0", "10.137.0.12", "10.64.0.1", 17, 53),
         Outcome::kReturn);
  Expect(ev, "vpn-forward", Pkt("vif12.0", "eth0", "10.137.0.12", "10.64.0.1", 17, 53),
         Outcome::kDrop, kDropForwardCounter);

  // One server: both virtual addresses go to it.
  auto one = Make(Backend::kKernel, Config("DNS = 10.64.0.1"));
  Evaluator ev1(one->rules);
  EXPECT_EQ(
      ev1.Run("vpn-prerouting", Pkt("vif12.0", "", "10.137.0.12", "10.139.1.2", 17, 53)).dnat_to,
      Ip("10.64.0.1"));

  // No DNS in the config: dropped and counted, never sent upstream.
  auto none = Make(Backend::kKernel, Config());
  Evaluator ev0(none->rules);
  for (std::string_view vdns : {"10.139.1.1", "10.139.1.2"})
    Expect(ev0, "vpn-prerouting", Pkt("vif12.0", "", "10.137.0.12", vdns, 17, 53), Outcome::kDrop,
           kDropDnsCounter);
  // An IPv6-only DNS server cannot serve the IPv4 virtual DNS: same as none.
  auto v6dns = Make(Backend::kKernel, Config("DNS = fc00::1"));
  Evaluator ev6(v6dns->rules);
  Expect(ev6, "vpn-prerouting", Pkt("vif12.0", "", "10.137.0.12", "10.139.1.1", 17, 53),
         Outcome::kDrop, kDropDnsCounter);
}

TEST(KillSwitch, Ipv6GoesThroughTheTunnelOnlyWhenBothSidesHaveIt) {
  struct Case {
    std::string extra;
    bool routed;
    Outcome want;
  };
  for (const Case& c :
       {Case{"", true, Outcome::kDrop}, Case{"Address = fd00::2/128", false, Outcome::kDrop},
        Case{"Address = fd00::2/128", true, Outcome::kReturn}}) {
    auto s = Make(Backend::kKernel, Config(c.extra), c.routed);
    Evaluator ev(s->rules);
    Expect(ev, "vpn-forward", Pkt("vif12.0", "wg0", "fd09:24ef:4179::a89:c", "2001:db8:2::10"),
           c.want);
    // IPv4 is unaffected (positive control).
    Expect(ev, "vpn-forward", Pkt("vif12.0", "wg0", "10.137.0.12", "203.0.113.10"),
           Outcome::kReturn);
    // And IPv6 to the uplink never passes.
    Expect(ev, "vpn-forward", Pkt("vif12.0", "eth0", "fd09:24ef:4179::a89:c", "2001:db8:2::10"),
           Outcome::kDrop);
  }
}

TEST(KillSwitch, AnEndpointNameMayBeResolvedThroughTheUpstream) {
  auto named = Make(Backend::kUserspace, Config("", "vpn.lab:51820"));
  Evaluator ev(named->rules);
  for (std::string_view vdns : {"10.139.1.1", "10.139.1.2"}) {
    Expect(ev, "vpn-output", Pkt("", "eth0", "198.51.100.2", vdns, 17, 53), Outcome::kAccept);
    Expect(ev, "vpn-output", Pkt("", "eth0", "198.51.100.2", vdns, 6, 53), Outcome::kAccept);
  }
  Expect(ev, "vpn-output", Pkt("", "eth0", "198.51.100.2", "203.0.113.53", 17, 53), Outcome::kDrop,
         kDropOutputCounter);
  // With only literal endpoints there is nothing to resolve.
  auto literal = Make(Backend::kUserspace, Config());
  Evaluator ev2(literal->rules);
  Expect(ev2, "vpn-output", Pkt("", "eth0", "198.51.100.2", "10.139.1.1", 17, 53), Outcome::kDrop,
         kDropOutputCounter);
}

TEST(KillSwitch, ClientsAreMasqueradedIntoTheTunnel) {
  auto s = Make(Backend::kKernel, Config());
  Evaluator ev(s->rules);
  Expect(ev, "vpn-postrouting", Pkt("vif12.0", "wg0", "10.137.0.12", "203.0.113.10"),
         Outcome::kMasquerade);
  Expect(ev, "vpn-postrouting", Pkt("vif12.0", "eth0", "10.137.0.12", "203.0.113.10"),
         Outcome::kReturn);
}

TEST(KillSwitch, EncodesAsOneTransactionOfItsOwnChains) {
  auto s = Make(Backend::kUserspace, Config("DNS = 10.64.0.1", "vpn.lab:51820"), true,
                {SocketAddr{Ip("203.0.113.20"), 51820}, SocketAddr{Ip("2001:db8:2::20"), 51820}});
  std::map<std::string, std::vector<nft::Rule>> chains;
  for (const nft::Chain& c : s->rules.chains) {
    EXPECT_TRUE(c.name.starts_with("vpn-")) << c.name;
    EXPECT_FALSE(c.base.has_value());
    chains[c.name];
  }
  for (const nft::Rule& r : s->rules.rules) chains[r.chain].push_back(r);
  nft::Batch batch = nft::ReplaceChainsBatch(chains, s->rules.sets);
  EXPECT_TRUE(batch.status().ok()) << batch.status().error().message();
  ASSERT_EQ(s->rules.sets.size(), 2u);
  EXPECT_EQ(s->rules.sets[0].elements.size(), 1u);
  EXPECT_EQ(s->rules.sets[1].elements.size(), 1u);
  // Every final drop is counted by name, and the names exist.
  for (const nft::Rule& r : s->rules.rules) {
    if (!std::holds_alternative<nft::Verdict>(r.exprs.back()) ||
        std::get<nft::Verdict>(r.exprs.back()).code != nft::VerdictCode::kDrop)
      continue;
    ASSERT_GE(r.exprs.size(), 2u);
    const auto* ref = std::get_if<nft::ObjRef>(&r.exprs[r.exprs.size() - 2]);
    ASSERT_NE(ref, nullptr) << nft::ToString(r);
    EXPECT_NE(std::find(s->rules.counters.begin(), s->rules.counters.end(),
                        nft::CounterObject{ref->name}),
              s->rules.counters.end());
  }
}

TEST(KillSwitch, EndpointSetsRefillAloneAndDeduplicate) {
  auto sets =
      EndpointSets({SocketAddr{Ip("203.0.113.20"), 51820}, SocketAddr{Ip("203.0.113.20"), 51820},
                    SocketAddr{Ip("203.0.113.22"), 443}});
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].set.name, kEndpointSet4);
  EXPECT_EQ(sets[0].elements.size(), 2u);
  EXPECT_TRUE(sets[1].elements.empty());
}

TEST(KillSwitch, RefusesInputsThatCannotBeEnforced) {
  WgQuickConfig c = Config();
  KillSwitchInput good{.config = &c,
                       .backend = Backend::kKernel,
                       .uplink = "eth0",
                       .tunnel = "wg0",
                       .endpoints = {SocketAddr{Ip("203.0.113.20"), 51820}}};
  ASSERT_TRUE(CompileKillSwitch(good).has_value());
  auto err = [&](KillSwitchInput in) {
    auto r = CompileKillSwitch(in);
    EXPECT_FALSE(r.has_value());
    return r.has_value() ? std::string() : r.error().message();
  };
  KillSwitchInput in = good;
  in.config = nullptr;
  EXPECT_EQ(err(in), "vpn kill switch: no wg-quick config");
  in = good;
  in.tunnel = "eth0";
  EXPECT_EQ(err(in), "vpn kill switch: tunnel and uplink are both eth0");
  in = good;
  in.tunnel = "vif3.0";
  EXPECT_EQ(err(in), "vpn kill switch: vif3.0: \"vif\" names are the clients' links");
  in = good;
  in.endpoints.clear();
  EXPECT_EQ(err(in), "vpn kill switch: no endpoint to let out");
  in = good;
  in.uplink = "";
  EXPECT_NE(err(in).find("vpn kill switch: uplink: "), std::string::npos);
}

TEST(KillSwitch, ResolvesEndpointsFromLiteralsAndNames) {
  WgQuickConfig c = Config("", "vpn.lab:443");
  auto missing = ResolveEndpoints(c, {});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Errc::kUnavailable);
  EXPECT_EQ(missing.error().message(), "vpn endpoint vpn.lab: no addresses (not resolved)");
  auto r = ResolveEndpoints(c, {{"vpn.lab", {Ip("203.0.113.20"), Ip("2001:db8:2::20")}}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (std::vector<SocketAddr>{SocketAddr{Ip("203.0.113.20"), 443},
                                         SocketAddr{Ip("2001:db8:2::20"), 443}}));
  auto lit = ResolveEndpoints(Config(), {});
  ASSERT_TRUE(lit.has_value());
  EXPECT_EQ(*lit, (std::vector<SocketAddr>{SocketAddr{Ip("203.0.113.20"), 51820}}));
}

}  // namespace
}  // namespace qnet::vpn
