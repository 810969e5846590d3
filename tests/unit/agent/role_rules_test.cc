#include <gtest/gtest.h>

#include <algorithm>

#include "qnet/agent/config.h"
#include "qnet/nft/match.h"
#include "qnet/nft/ruleset.h"
#include "rules.h"

namespace qnet::agent {
namespace {

AgentConfig Netvm(std::vector<IpAddr> upstream) {
  AgentConfig c;
  c.qube = "sys-firewall";
  c.role = "firewall";
  c.addr4 = *IpAddr::Parse("10.137.0.2");
  c.uplink = Uplink{.ifname = "eth0", .addr4 = *IpPrefix::Parse("10.137.0.2/32"),
                    .gateway4 = *IpAddr::Parse("10.137.0.1")};
  c.clients = {{.name = "work", .id = 3, .vif = "vif3.0", .addr4 = *IpAddr::Parse("10.137.0.3")},
               {.name = "p", .id = 4, .vif = "vif4.0", .addr4 = *IpAddr::Parse("10.137.0.4")}};
  c.dns_upstream = std::move(upstream);
  return c;
}

std::vector<std::string> ChainText(const CapabilityRules& cr, const std::string& chain) {
  std::vector<std::string> out;
  for (const auto& r : cr.rules)
    if (r.chain == chain) out.push_back(nft::ToString(r));
  return out;
}

bool AnyContains(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

TEST(RoleRules, NetvmOwnsItsFiveChainsAndTheClientSet) {
  CapabilityRules cr = RoleRules(Netvm({*IpAddr::Parse("10.139.1.1")}));
  EXPECT_EQ(cr.chains.size(), 5u);
  ASSERT_EQ(cr.sets.size(), 2u);
  EXPECT_EQ(cr.sets[0].first.name, "netvm-clients4");
  EXPECT_EQ(cr.sets[0].second.size(), 2u);  // one (vif . address) per client
  EXPECT_TRUE(cr.sets[1].second.empty());   // no IPv6 clients with IPv6 off
}

TEST(RoleRules, ForwardDropsSpoofingAndVifToVifThenHandsClientTrafficToTheFirewall) {
  CapabilityRules cr = RoleRules(Netvm({*IpAddr::Parse("10.139.1.1")}));
  auto fwd = ChainText(cr, "netvm-forward");
  ASSERT_GE(fwd.size(), 6u);
  // First the anti-spoofing drop: a (vif . source) pair not in the clients set.
  EXPECT_NE(fwd[0].find("netvm-clients4"), std::string::npos) << fwd[0];
  EXPECT_NE(fwd[0].find("drop"), std::string::npos) << fwd[0];
  // Then, before any client traffic reaches the firewall, vif to vif drops.
  using namespace nft;
  std::vector<Exprs> exprs;
  for (const auto& r : cr.rules)
    if (r.chain == "netvm-forward") exprs.push_back(r.exprs);
  const auto vif_to_vif = std::find(exprs.begin(), exprs.end(),
                                    Concat(IifNamePrefix("vif"), OifNamePrefix("vif"), Count(), Drop()));
  ASSERT_NE(vif_to_vif, exprs.end()) << "no vif-to-vif drop";
  EXPECT_LT(vif_to_vif - exprs.begin(), static_cast<long>(fwd.size()) - 2);
  // Client traffic (established too) goes to the firewall; the rest drops.
  EXPECT_NE(fwd[fwd.size() - 2].find("firewall-forward"), std::string::npos) << fwd[fwd.size() - 2];
  EXPECT_NE(fwd.back().find("drop"), std::string::npos) << fwd.back();
  // Nothing from a client is accepted on conntrack state alone: the one
  // accept is for replies toward a vif (meta key 7 = oifname).
  for (const auto& r : fwd) {
    if (r.find("accept") != std::string::npos) {
      EXPECT_NE(r.find("meta load 7 "), std::string::npos) << r;
    }
  }
  // IPv6 off: dropped in forwarding.
  EXPECT_TRUE(AnyContains(fwd, "drop"));
}

TEST(RoleRules, VirtualDnsIsDnatedToTheUpstreamOrDropped) {
  auto with = ChainText(RoleRules(Netvm({*IpAddr::Parse("203.0.113.53")})), "netvm-prerouting");
  EXPECT_EQ(with.size(), 4u);  // 2 servers x udp/tcp
  for (const auto& r : with) EXPECT_NE(r.find("nat"), std::string::npos) << r;
  auto without = ChainText(RoleRules(Netvm({})), "netvm-prerouting");
  ASSERT_EQ(without.size(), 4u);
  for (const auto& r : without) EXPECT_NE(r.find("drop"), std::string::npos) << r;
}

TEST(RoleRules, MasqueradesTowardTheUplinkOnly) {
  auto post = ChainText(RoleRules(Netvm({})), "netvm-postrouting");
  ASSERT_EQ(post.size(), 1u);
  EXPECT_NE(post[0].find("masq"), std::string::npos) << post[0];
}

TEST(RoleRules, NetworkProvidingRolesRunTheFirewallAfterNetvm) {
  for (const char* role : {"net", "firewall", "vpn"})
    EXPECT_EQ(CapabilitiesForRole(role), (std::vector<std::string>{"netvm", "firewall"})) << role;
}

TEST(RoleRules, AppAndTorQubesNeverForward) {
  AgentConfig app;
  app.role = "app";
  EXPECT_EQ(CapabilitiesForRole("app"), std::vector<std::string>{"app"});
  EXPECT_EQ(CapabilitiesForRole("tor"), std::vector<std::string>{"app"});
  CapabilityRules cr = RoleRules(app);
  for (const auto& r : cr.rules) EXPECT_NE(r.chain, "netvm-forward");
}

}  // namespace
}  // namespace qnet::agent
