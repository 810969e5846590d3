// The firewall capability's pieces that run without root: the client
// lists in the agent protocol, qnet.Firewall's input, the tor restriction,
// and the batches.
#include "qnet/firewall/install_batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "qnet/firewall/agent_section.h"
#include "qnet/firewall/capability.h"
#include "qnet/firewall/rule_parser.h"
#include "qnet/nft/match.h"

namespace qnet::firewall {
namespace {

constexpr int64_t kNow = 1700000000;

RuleList Rules(std::vector<std::string> lines) {
  auto l = RuleList::Parse(lines, kNow);
  EXPECT_TRUE(l) << l.error().message();
  return *l;
}

qube::AgentConfig Netvm() {
  qube::AgentConfig c;
  c.qube = "sys-firewall";
  c.role = qube::Role::kFirewall;
  c.addr4 = *IpAddr::Parse("10.137.0.2");
  c.clients = {{.name = "work", .id = 3, .vif = "vif3.0", .addr4 = *IpAddr::Parse("10.137.0.3")},
               {.name = "p", .id = 4, .vif = "vif4.0", .addr4 = *IpAddr::Parse("10.137.0.4")}};
  return c;
}

ClientLists Lists() {
  return {{"work", Rules({"accept dsthost=web.lab proto=tcp dstports=80", "drop"})}};
}

std::vector<Client> NetvmClients() { return FirewallClients(Netvm(), Lists()); }

std::vector<std::string> Ops(const nft::Batch& b) {
  std::vector<std::string> out;
  for (const nft::Op& op : b.ops()) out.push_back(nft::OpDescription(op));
  return out;
}

bool Any(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

TEST(FirewallSection, ListsRoundTripAsCanonicalText) {
  auto back = ClientListsFromJson(ClientListsToJson(Lists()), kNow);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, Lists());
  EXPECT_FALSE(back->contains("p"));  // absent: the default, accept
}

// The default list and an explicit empty one (everything dropped) stay
// apart on the wire: null and [].
TEST(FirewallSection, AnEmptyListStaysEmptyAndTheDefaultStaysDefault) {
  ClientLists lists = Lists();
  lists["e"] = RuleList(std::vector<Rule>{});
  lists["d"] = RuleList();
  auto back = ClientListsFromJson(ClientListsToJson(lists), kNow);
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_TRUE(back->contains("e"));
  EXPECT_FALSE(back->at("e").is_default());
  EXPECT_TRUE(back->at("e").Effective().empty());
  EXPECT_TRUE(!back->contains("d") || back->at("d").is_default());
}

TEST(FirewallSection, BadRuleIsRefusedNamingClientAndRule) {
  auto j = nlohmann::json::parse(ClientListsToJson(Lists()));
  j["clients"]["work"][1] = "accept proto=tcp dstports=99999";
  auto back = ClientListsFromJson(j.dump(), kNow);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message().find("client work"), std::string::npos)
      << back.error().message();
  EXPECT_NE(back.error().message().find("rule 1"), std::string::npos) << back.error().message();
  EXPECT_NE(back.error().message().find("dstports"), std::string::npos) << back.error().message();
}

TEST(FirewallSection, UpdateRoundTripsAndRefusesBadRules) {
  FirewallUpdate u{.client = "work", .rules = Rules({"accept dst4=203.0.113.10", "drop"})};
  auto back = FirewallUpdateFromJson(ToJson(u), kNow);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->client, "work");
  EXPECT_EQ(back->rules, u.rules);
  auto bad = FirewallUpdateFromJson(R"({"client": "work", "rules": ["accept icmptype=8"]})", kNow);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("icmptype"), std::string::npos) << bad.error().message();
}

TEST(FirewallSection, TorGatewayAcceptsOnlyTheDefaultList) {
  EXPECT_TRUE(CheckListForNetvm(qube::Role::kTor, "sys-whonix", RuleList()));
  EXPECT_TRUE(CheckListForNetvm(qube::Role::kTor, "sys-whonix", Rules({"accept"})));
  Status s = CheckListForNetvm(qube::Role::kTor, "sys-whonix", Rules({"drop"}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(),
            "a tor gateway (sys-whonix) carries only Tor: its clients accept only the default "
            "firewall list [\"accept\"]");
  for (qube::Role r : {qube::Role::kNet, qube::Role::kFirewall, qube::Role::kVpn})
    EXPECT_TRUE(CheckListForNetvm(r, "x", Rules({"drop"})));
}

TEST(FirewallApply, HostnamesAreCollectedOnce) {
  EXPECT_EQ(FirewallHostnames(Lists()), std::vector<std::string>{"web.lab"});
}

TEST(FirewallApply, InstallFillsSharedAndEveryClientAndDeletesGoneClients) {
  auto fw = Compile(NetvmClients(), {}, kNow);
  ASSERT_TRUE(fw) << fw.error().message();
  auto ops = Ops(FirewallInstallBatch(CompiledFirewall(*fw), {}));
  EXPECT_TRUE(Any(ops, "firewall-forward"));
  EXPECT_TRUE(Any(ops, "fw-3"));
  EXPECT_TRUE(Any(ops, "fw-4"));
  EXPECT_FALSE(Any(ops, "DELCHAIN"));
  // Client 4 goes away: its chain is deleted in the same transaction.
  std::map<uint32_t, ClientRules> previous;
  for (const auto& c : fw->clients) previous[c.id] = c;
  qube::AgentConfig one = Netvm();
  one.clients.pop_back();
  auto fw1 = Compile(FirewallClients(one, Lists()), {}, kNow);
  ASSERT_TRUE(fw1);
  auto ops1 = Ops(FirewallInstallBatch(std::move(*fw1), previous));
  EXPECT_TRUE(Any(ops1, "DELCHAIN")) << ::testing::PrintToString(ops1);
}

TEST(FirewallApply, ClientChangeTouchesOnlyThatClient) {
  auto clients = NetvmClients();
  auto before = CompileClient(clients[1], {}, kNow);
  ASSERT_TRUE(before);
  clients[1].rules = Rules({"drop proto=udp", "accept"});
  auto after = CompileClient(clients[1], {}, kNow);
  ASSERT_TRUE(after);
  nft::Batch b = FirewallClientBatch(*before, *after);
  ASSERT_TRUE(b.status()) << b.status().error().message();
  auto ops = Ops(b);
  EXPECT_TRUE(Any(ops, "fw-4"));
  EXPECT_FALSE(Any(ops, "fw-3"));
  EXPECT_FALSE(Any(ops, "firewall-forward"));
}

ClientRules CompileOne(std::vector<std::string> rules, bool v6 = false) {
  Client c = NetvmClients()[0];
  c.rules = Rules(std::move(rules));
  if (v6) c.ipv6 = *IpAddr::Parse("fd09:24ef:4179::a89:3");
  Resolutions names;
  names["web.lab"] = {true, {{*IpAddr::Parse("203.0.113.10"), std::chrono::seconds(60)}}, ""};
  auto cr = CompileClient(c, names, kNow);
  EXPECT_TRUE(cr) << cr.error().message();
  return *cr;
}

// The fallback must not contain what may have made the change fail:
// deletions or set definitions.
TEST(FirewallApply, DropAllFallbackDeletesNothingAndTouchesNoSet) {
  // The list before had IPv6 (a second chain, fw-3-6), the drop-all has not.
  const ClientRules before =
      InstalledObjects(CompileOne({"accept dsthost=web.lab", "accept expire=+60", "drop"}, true));
  auto drop = CompileDropAll(NetvmClients()[0]);
  ASSERT_TRUE(drop);
  const nft::Batch b = FirewallDropAllBatch(before, *drop);
  ASSERT_TRUE(b.status()) << b.status().error().message();
  for (const nft::Op& op : b.ops()) {
    EXPECT_NE(op.kind, nft::Op::Kind::kDelChain) << nft::OpDescription(op);
    EXPECT_NE(op.kind, nft::Op::Kind::kDelSet) << nft::OpDescription(op);
    EXPECT_NE(op.kind, nft::Op::Kind::kDelElements) << nft::OpDescription(op);
    EXPECT_NE(op.kind, nft::Op::Kind::kDelCounter) << nft::OpDescription(op);
    EXPECT_NE(op.kind, nft::Op::Kind::kNewSet) << nft::OpDescription(op);
  }
  const auto ops = Ops(b);
  // Every chain the client had is emptied: the IPv6 one too.
  EXPECT_TRUE(Any(ops, "flush chain fw-3-6")) << ::testing::PrintToString(ops);
  EXPECT_TRUE(Any(ops, "flush chain fw-3)")) << ::testing::PrintToString(ops);
  EXPECT_TRUE(Any(ops, "chain fw-3, comment \"default drop\"")) << ::testing::PrintToString(ops);
  EXPECT_FALSE(Any(ops, "rule 0")) << ::testing::PrintToString(ops);
  // Afterwards the agent knows both lists' objects, so the next change
  // deletes the ones no longer needed.
  const ClientRules merged = MergeInstalled(before, *drop);
  EXPECT_EQ(merged.chains.size(), before.chains.size());
  EXPECT_EQ(merged.sets.size(), before.sets.size());
  EXPECT_EQ(Stale(merged, CompileOne({"drop"})).chains, std::vector<std::string>{"fw-3-6"});
}

TEST(FirewallApply, HostnameRefreshRefillsOnlyTheSets) {
  const nft::Batch b = FirewallSetsBatch({CompileOne({"accept dsthost=web.lab", "drop"})});
  ASSERT_TRUE(b.status());
  const auto ops = Ops(b);
  EXPECT_TRUE(Any(ops, "flush set fw-3-a0-4")) << ::testing::PrintToString(ops);
  EXPECT_TRUE(Any(ops, "NEWSETELEM")) << ::testing::PrintToString(ops);
  for (const nft::Op& op : b.ops()) {
    EXPECT_NE(op.kind, nft::Op::Kind::kNewRule) << nft::OpDescription(op);
    EXPECT_NE(op.kind, nft::Op::Kind::kFlushChain) << nft::OpDescription(op);
  }
}

TEST(FirewallApply, AdoptionTakesEveryObjectTheKernelHoldsForTheClientOnly) {
  nft::TableState t;
  for (const char* c : {"fw-3", "fw-3-x4", "fw-3-6", "fw-33", "fw-4", "firewall-forward"})
    t.chains.push_back({.chain = {c, std::nullopt}});
  for (const char* s : {"fw-3-a1-4", "fw-3-d2-4", "fw-33-a1-4"})
    t.sets.push_back({.set = {.name = s, .key = {nft::DataType::kIpv4Addr}}});
  t.counters = {{.name = "fw-3-drop"}, {.name = "fw-4-drop"}};
  auto key = [](const char* vif, const char* a) {
    return nft::ConcatKey({nft::IfnameKey(vif), nft::AddrKey(*IpAddr::Parse(a))});
  };
  t.sets.push_back({.set = CompileShared().sets[0],
                    .elements = {{.key = key("vif3.0", "10.137.0.3"),
                                  .verdict = nft::Verdict{nft::VerdictCode::kJump, "fw-3"}},
                                 {.key = key("vif4.0", "10.137.0.4"),
                                  .verdict = nft::Verdict{nft::VerdictCode::kJump, "fw-4"}}}});
  t.sets.push_back(
      {.set = CompileShared().sets[2],
       .elements = {{.key = nft::IfnameKey("vif3.0")}, {.key = nft::IfnameKey("vif4.0")}}});
  const ClientRules got = AdoptClientObjects(t, NetvmClients()[0]);
  std::vector<std::string> chains, sets;
  for (const auto& c : got.chains) chains.push_back(c.name);
  for (const auto& s : got.sets) sets.push_back(s.set.name);
  EXPECT_EQ(chains, (std::vector<std::string>{"fw-3", "fw-3-x4", "fw-3-6"}));
  EXPECT_EQ(sets, (std::vector<std::string>{"fw-3-a1-4", "fw-3-d2-4"}));
  ASSERT_EQ(got.counters.size(), 1u);
  EXPECT_EQ(got.counters[0].name, "fw-3-drop");
  ASSERT_EQ(got.map_entries.size(), 2u);
  EXPECT_EQ(got.map_entries[0].elements.size(), 1u);
  EXPECT_EQ(got.map_entries[0].elements[0].key, key("vif3.0", "10.137.0.3"));
  EXPECT_EQ(got.map_entries[1].elements.size(), 1u);
  EXPECT_EQ(got.map_entries[1].elements[0].key, nft::IfnameKey("vif3.0"));
}

}  // namespace
}  // namespace qnet::firewall
