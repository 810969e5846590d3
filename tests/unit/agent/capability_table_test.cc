// The capability table (each role's capabilities, in order) and the
// capabilities' rules as pure functions of the qube's config.
#include "capability_table.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "capability_host.h"
#include "closed_capabilities.h"
#include "netvm_capability.h"
#include "qnet/nft/match.h"
#include "qnet/nft/ruleset.h"

namespace qnet::agent {
namespace {

class NoKernel final : public nft::Committer {
 public:
  Status Commit(const nft::Batch&) override {
    return Fail(Errc::kUnavailable, "no kernel in this test");
  }
};

class FixedClock final : public Clock {
 public:
  int64_t UnixNow() const override { return 1700000000; }
  std::chrono::steady_clock::time_point SteadyNow() const override { return {}; }
};

std::vector<std::string> Names(qube::Role role) {
  NoKernel nft;
  FixedClock clock;
  CapabilityHost host(
      nft, CapabilitiesFor(
               role, {.qube = "q",
                      .nft = nft,
                      .resolve = [](const std::string&, bool) { return firewall::Resolution{}; },
                      .clock = clock}));
  // Every role's capabilities serve distinct services.
  EXPECT_TRUE(qrexec::ServiceTable::Create(host.Services())) << qube::RoleName(role);
  return host.names();
}

TEST(CapabilityTable, EachRoleRunsItsCapabilitiesInOrder) {
  using qube::Role;
  const std::vector<std::string> netvm_firewall = {"netvm", "firewall"};
  EXPECT_EQ(Names(Role::kNet), netvm_firewall);
  EXPECT_EQ(Names(Role::kFirewall), netvm_firewall);
  EXPECT_EQ(Names(Role::kVpn), (std::vector<std::string>{"vpn", "netvm", "firewall"}));
  EXPECT_EQ(Names(Role::kTor), std::vector<std::string>{"tor"});
  EXPECT_EQ(Names(Role::kApp), std::vector<std::string>{"app"});
}

TEST(CapabilityTable, EveryRoleHasARow) {
  for (qube::Role role : qube::kAllRoles) EXPECT_FALSE(Names(role).empty()) << qube::RoleName(role);
}

qube::AgentConfig Netvm(std::vector<IpAddr> upstream) {
  qube::AgentConfig c;
  c.qube = "sys-firewall";
  c.role = qube::Role::kFirewall;
  c.addr4 = *IpAddr::Parse("10.137.0.2");
  c.uplink = qube::Uplink{.ifname = "eth0",
                          .addr4 = *IpPrefix::Parse("10.137.0.2/32"),
                          .gateway4 = *IpAddr::Parse("10.137.0.1")};
  c.clients = {{.name = "work", .id = 3, .vif = "vif3.0", .addr4 = *IpAddr::Parse("10.137.0.3")},
               {.name = "p", .id = 4, .vif = "vif4.0", .addr4 = *IpAddr::Parse("10.137.0.4")}};
  c.dns_upstream = std::move(upstream);
  return c;
}

std::vector<std::string> ChainText(const qube::CapabilityRules& cr, const std::string& chain) {
  std::vector<std::string> out;
  for (const auto& r : cr.rules)
    if (r.chain == chain) out.push_back(nft::ToString(r));
  return out;
}

bool AnyContains(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

TEST(NetvmCapability, RulesAreAPureFunctionOfTheConfig) {
  const qube::AgentConfig c = Netvm({*IpAddr::Parse("10.139.1.1")});
  const qube::CapabilityRules a = NetvmRules(c), b = NetvmRules(c);
  ASSERT_EQ(a.rules.size(), b.rules.size());
  for (size_t i = 0; i < a.rules.size(); ++i)
    EXPECT_EQ(nft::ToString(a.rules[i]), nft::ToString(b.rules[i]));
  // A different config, different rules: one client fewer, one set element fewer.
  qube::AgentConfig one = c;
  one.clients.pop_back();
  EXPECT_EQ(NetvmRules(one).sets[0].elements.size(), 1u);
}

TEST(NetvmCapability, NetvmOwnsItsFiveChainsAndTheClientSet) {
  qube::CapabilityRules cr = NetvmRules(Netvm({*IpAddr::Parse("10.139.1.1")}));
  EXPECT_EQ(cr.chains.size(), 5u);
  ASSERT_EQ(cr.sets.size(), 2u);
  EXPECT_EQ(cr.sets[0].set.name, "netvm-clients4");
  EXPECT_EQ(cr.sets[0].elements.size(), 2u);  // one (vif . address) per client
  EXPECT_TRUE(cr.sets[1].elements.empty());   // no IPv6 clients with IPv6 off
}

TEST(NetvmCapability, ForwardDropsSpoofingAndVifToVifThenHandsClientTrafficToTheFirewall) {
  qube::CapabilityRules cr = NetvmRules(Netvm({*IpAddr::Parse("10.139.1.1")}));
  auto fwd = ChainText(cr, "netvm-forward");
  ASSERT_GE(fwd.size(), 6u);
  // First the anti-spoofing drop: a (vif . source) pair not in the clients set.
  EXPECT_NE(fwd[0].find("netvm-clients4"), std::string::npos) << fwd[0];
  EXPECT_NE(fwd[0].find("drop"), std::string::npos) << fwd[0];
  // Then, before any client traffic reaches the firewall, vif to vif drops.
  std::vector<nft::Exprs> exprs;
  for (const auto& r : cr.rules)
    if (r.chain == "netvm-forward") exprs.push_back(r.exprs);
  const auto vif_to_vif = std::find(
      exprs.begin(), exprs.end(),
      nft::Concat(nft::IifNamePrefix("vif"), nft::OifNamePrefix("vif"), nft::Count(), nft::Drop()));
  ASSERT_NE(vif_to_vif, exprs.end()) << "no vif-to-vif drop";
  EXPECT_LT(vif_to_vif - exprs.begin(), static_cast<long>(fwd.size()) - 2);
  // Client traffic (established too) goes to the firewall; the rest drops.
  EXPECT_NE(fwd[fwd.size() - 2].find("firewall-forward"), std::string::npos) << fwd[fwd.size() - 2];
  EXPECT_NE(fwd.back().find("drop"), std::string::npos) << fwd.back();
  // Nothing from a client is accepted on conntrack state alone: the one
  // accept is for replies toward a vif (meta key 7 = oifname).
  for (const auto& r : fwd) {
    if (r.find("accept") != std::string::npos) {
      EXPECT_NE(r.find("meta load oifname "), std::string::npos) << r;
    }
  }
  // IPv6 off: dropped in forwarding.
  EXPECT_TRUE(AnyContains(fwd, "drop"));
}

TEST(NetvmCapability, VirtualDnsIsDnatedToTheUpstreamOrDropped) {
  auto with = ChainText(NetvmRules(Netvm({*IpAddr::Parse("203.0.113.53")})), "netvm-prerouting");
  EXPECT_EQ(with.size(), 4u);  // 2 servers x udp/tcp
  for (const auto& r : with) EXPECT_NE(r.find("nat"), std::string::npos) << r;
  auto without = ChainText(NetvmRules(Netvm({})), "netvm-prerouting");
  ASSERT_EQ(without.size(), 4u);
  for (const auto& r : without) EXPECT_NE(r.find("drop"), std::string::npos) << r;
}

TEST(NetvmCapability, MasqueradesTowardTheUplinkOnly) {
  auto post = ChainText(NetvmRules(Netvm({})), "netvm-postrouting");
  ASSERT_EQ(post.size(), 1u);
  EXPECT_NE(post[0].find("masq"), std::string::npos) << post[0];
}

TEST(ClosedCapabilities, AppAndTorQubesNeverForward) {
  for (const char* name : {"app", "tor"}) {
    const qube::CapabilityRules cr = ClosedRules(name);
    EXPECT_EQ(cr.chains, (std::vector<std::string>{fmt::format("{}-input", name),
                                                   fmt::format("{}-output", name)}));
    for (const auto& r : cr.rules) EXPECT_EQ(r.chain.find("forward"), std::string::npos);
  }
  EXPECT_FALSE(AppCapability().forwards());
  EXPECT_TRUE(NetvmCapability().forwards());
}

}  // namespace
}  // namespace qnet::agent
