#include "qnet/chain/plan.h"

#include <gtest/gtest.h>

#include "qnet/config/chain_file.h"
#include "registry.h"

namespace qnet::chain {
namespace {

Plan PlanOf(const std::string& path) {
  auto spec = config::ParseChainFile(path, BuildKeyRegistry());
  EXPECT_TRUE(spec) << spec.error().message();
  auto plan = BuildPlan(*spec, 1700000000);
  EXPECT_TRUE(plan) << plan.error().message();
  return *plan;
}

TEST(Plan, BasicChainFollowsTheQubesAddressPlan) {
  Plan p = PlanOf(std::string(QNET_SOURCE_DIR) + "/configs/basic.toml");
  ASSERT_EQ(p.qubes.size(), 3u);
  EXPECT_EQ(p.qubes[0].spec.name, "sys-net");  // netvms first
  EXPECT_TRUE(p.lab);
  const QubePlan* net = p.Find("sys-net");
  const QubePlan* fw = p.Find("sys-firewall");
  const QubePlan* work = p.Find("work");
  EXPECT_EQ(net->addr4.ToString(), "10.137.0.1");
  EXPECT_EQ(fw->addr4.ToString(), "10.137.0.2");
  EXPECT_EQ(work->addr4.ToString(), "10.137.0.3");
  // sys-net's uplink is the lab; its DNS is the lab's resolver.
  EXPECT_EQ(net->agent.uplink->ifname, "uplink0");
  EXPECT_EQ(net->agent.uplink->addr4.ToString(), "198.51.100.2/24");
  EXPECT_EQ(net->agent.dns_upstream[0].ToString(), "203.0.113.53");
  // A client's gateway is its netvm's own address, pinned.
  EXPECT_EQ(work->agent.uplink->gateway4.ToString(), "10.137.0.2");
  EXPECT_EQ(work->agent.uplink->addr4.ToString(), "10.137.0.3/32");
  EXPECT_TRUE(work->agent.uplink->gateway_mac.has_value());
  EXPECT_EQ(work->agent.nameservers[0].ToString(), "10.139.1.1");
  // One link per client, named after the client's id.
  ASSERT_EQ(p.links.size(), 2u);
  EXPECT_EQ(fw->agent.clients.size(), 1u);
  EXPECT_EQ(fw->agent.clients[0].vif, "vif3.0");
}

TEST(Plan, NetQubeWithoutLabIsRefused) {
  auto spec = config::ParseChainText(
      "[chain]\nname = \"x\"\n[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\n", "x.toml",
      BuildKeyRegistry());
  ASSERT_TRUE(spec) << spec.error().message();
  auto plan = BuildPlan(*spec, 1700000000);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message().find("needs the [lab] uplink"), std::string::npos);
}

// A tor gateway forwards nothing: a client's list other than the default is
// refused before anything is created, at the key's position.
TEST(Plan, TorGatewayClientWithRulesIsRefusedAtTheFirewallKey) {
  const std::string head =
      "[chain]\nname = \"x\"\n[lab]\n"
      "[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\n"
      "[qube.sys-whonix]\nrole = \"tor\"\nlabel = \"black\"\nnetvm = \"sys-net\"\n"
      "[qube.anon]\nrole = \"app\"\nlabel = \"red\"\nnetvm = \"sys-whonix\"\n";
  // [] is an explicit empty list (everything dropped), not the default.
  for (const char* list :
       {"[\"drop\"]", "[\"accept dst4=203.0.113.10\"]", "[\"accept\", \"drop\"]", "[]"}) {
    auto spec =
        config::ParseChainText(head + "firewall = " + list + "\n", "x.toml", BuildKeyRegistry());
    ASSERT_TRUE(spec) << spec.error().message();
    auto plan = BuildPlan(*spec, 1700000000);
    ASSERT_FALSE(plan) << list;
    EXPECT_EQ(plan.error().message(),
              "x.toml:15:1: qube.anon.firewall: a tor gateway (sys-whonix) carries only Tor: its "
              "clients accept only the default firewall list [\"accept\"]");
  }
  for (const char* list : {"[\"accept\"]"}) {
    auto spec =
        config::ParseChainText(head + "firewall = " + list + "\n", "x.toml", BuildKeyRegistry());
    ASSERT_TRUE(spec);
    EXPECT_TRUE(BuildPlan(*spec, 1700000000)) << list;
  }
}

TEST(Plan, ClientFirewallRulesGoToTheNetvmThatEnforcesThem) {
  auto spec = config::ParseChainText(
      "[chain]\nname = \"x\"\n[lab]\n"
      "[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\n"
      "[qube.work]\nrole = \"app\"\nlabel = \"blue\"\nnetvm = \"sys-net\"\n"
      "firewall = [\"accept dst4=203.0.113.10 proto=tcp dstports=80\", \"drop\"]\n",
      "x.toml", BuildKeyRegistry());
  ASSERT_TRUE(spec) << spec.error().message();
  auto plan = BuildPlan(*spec, 1700000000);
  ASSERT_TRUE(plan) << plan.error().message();
  const QubePlan* net = plan->Find("sys-net");
  ASSERT_EQ(net->agent.clients.size(), 1u);
  ASSERT_TRUE(net->firewall.contains("work"));
  EXPECT_EQ(net->firewall.at("work").size(), 2u);
  // The agent gets them in the firewall's section of its config.
  auto lists = firewall::ClientListsFromJson(net->agent.sections.at("firewall"), 1700000000);
  ASSERT_TRUE(lists) << lists.error().message();
  EXPECT_EQ(*lists, net->firewall);
  EXPECT_TRUE(plan->Find("work")->agent.clients.empty());
  EXPECT_FALSE(plan->Find("work")->agent.sections.contains("firewall"));  // an app enforces nothing
  // Without the key: Qubes' default (accept).
  Plan basic = PlanOf(std::string(QNET_SOURCE_DIR) + "/configs/basic.toml");
  const QubePlan* fw = basic.Find("sys-firewall");
  EXPECT_TRUE(!fw->firewall.contains("work") || fw->firewall.at("work").IsDefaultAccept());
}

}  // namespace
}  // namespace qnet::chain
