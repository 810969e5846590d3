// The agent's firewall pieces that run without root: rules in the config
// JSON, qnet.Firewall's input, the tor restriction, and the batches.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "firewall_apply.h"
#include "qnet/agent/config.h"
#include "qnet/firewall/rule_parser.h"

namespace qnet::agent {
namespace {

constexpr int64_t kNow = 1700000000;

firewall::RuleList Rules(std::vector<std::string> lines) {
  auto l = firewall::RuleList::Parse(lines, kNow);
  EXPECT_TRUE(l) << l.error().message();
  return *l;
}

AgentConfig Netvm() {
  AgentConfig c;
  c.qube = "sys-firewall";
  c.role = "firewall";
  c.addr4 = *IpAddr::Parse("10.137.0.2");
  c.clients = {{.name = "work", .id = 3, .vif = "vif3.0", .addr4 = *IpAddr::Parse("10.137.0.3"),
                .rules = Rules({"accept dsthost=web.lab proto=tcp dstports=80", "drop"})},
               {.name = "p", .id = 4, .vif = "vif4.0", .addr4 = *IpAddr::Parse("10.137.0.4")}};
  return c;
}

std::vector<std::string> Ops(const nft::Batch& b) {
  std::vector<std::string> out;
  for (const nft::Op& op : b.ops()) out.push_back(nft::OpDescription(op));
  return out;
}

bool Any(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

TEST(FirewallConfig, RulesRoundTripAsCanonicalText) {
  auto back = AgentConfigFromJson(ToJson(Netvm()));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->clients[0].rules, Netvm().clients[0].rules);
  EXPECT_TRUE(back->clients[1].rules.empty());  // the default: accept
}

TEST(FirewallConfig, BadRuleIsRefusedNamingClientAndRule) {
  auto j = nlohmann::json::parse(ToJson(Netvm()));
  j["clients"][0]["rules"][1] = "accept proto=tcp dstports=99999";
  auto back = AgentConfigFromJson(j.dump());
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message().find("client work"), std::string::npos) << back.error().message();
  EXPECT_NE(back.error().message().find("rule 1"), std::string::npos) << back.error().message();
  EXPECT_NE(back.error().message().find("dstports"), std::string::npos) << back.error().message();
}

TEST(FirewallConfig, UpdateRoundTripsAndRefusesBadRules) {
  FirewallUpdate u{.client = "work", .rules = Rules({"accept dst4=203.0.113.10", "drop"})};
  auto back = FirewallUpdateFromJson(ToJson(u));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->client, "work");
  EXPECT_EQ(back->rules, u.rules);
  auto bad = FirewallUpdateFromJson(R"({"client": "work", "rules": ["accept icmptype=8"]})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("icmptype"), std::string::npos) << bad.error().message();
}

TEST(FirewallRole, TorAcceptsOnlyTheDefaultList) {
  Client c{.name = "anon", .id = 5, .vif = "vif5.0", .addr4 = *IpAddr::Parse("10.137.0.5")};
  EXPECT_TRUE(CheckRulesForRole("tor", c));
  c.rules = Rules({"accept"});
  EXPECT_TRUE(CheckRulesForRole("tor", c));
  c.rules = Rules({"drop"});
  Status s = CheckRulesForRole("tor", c);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("client anon: a tor gateway accepts only the default"),
            std::string::npos)
      << s.error().message();
  EXPECT_TRUE(CheckRulesForRole("firewall", c));
}

TEST(FirewallApply, HostnamesAreCollectedOnce) {
  EXPECT_EQ(FirewallHostnames(Netvm()), std::vector<std::string>{"web.lab"});
}

TEST(FirewallApply, InstallFillsSharedAndEveryClientAndDeletesGoneClients) {
  auto fw = firewall::Compile(FirewallClients(Netvm()), {}, kNow);
  ASSERT_TRUE(fw) << fw.error().message();
  auto ops = Ops(FirewallInstallBatch(*fw, {}));
  EXPECT_TRUE(Any(ops, "firewall-forward"));
  EXPECT_TRUE(Any(ops, "fw-3"));
  EXPECT_TRUE(Any(ops, "fw-4"));
  EXPECT_FALSE(Any(ops, "DELCHAIN"));
  // Client 4 goes away: its chain is deleted in the same transaction.
  std::map<uint32_t, firewall::ClientRules> previous;
  for (const auto& c : fw->clients) previous[c.id] = c;
  AgentConfig one = Netvm();
  one.clients.pop_back();
  auto fw1 = firewall::Compile(FirewallClients(one), {}, kNow);
  ASSERT_TRUE(fw1);
  auto ops1 = Ops(FirewallInstallBatch(*fw1, previous));
  EXPECT_TRUE(Any(ops1, "DELCHAIN")) << ::testing::PrintToString(ops1);
}

TEST(FirewallApply, ClientChangeTouchesOnlyThatClient) {
  auto clients = FirewallClients(Netvm());
  auto before = firewall::CompileClient(clients[1], {}, kNow);
  ASSERT_TRUE(before);
  clients[1].rules = Rules({"drop proto=udp", "accept"});
  auto after = firewall::CompileClient(clients[1], {}, kNow);
  ASSERT_TRUE(after);
  nft::Batch b = FirewallClientBatch(*before, *after);
  ASSERT_TRUE(b.status()) << b.status().error().message();
  auto ops = Ops(b);
  EXPECT_TRUE(Any(ops, "fw-4"));
  EXPECT_FALSE(Any(ops, "fw-3"));
  EXPECT_FALSE(Any(ops, "firewall-forward"));
}

}  // namespace
}  // namespace qnet::agent
