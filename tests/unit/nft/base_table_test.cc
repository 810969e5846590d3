// The qube's base table: lockdown, capability install, chain replacement.

#include "qnet/nft/base_table.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "qnet/nft/match.h"
#include "test_util.h"

namespace qnet::nft {
namespace {

std::vector<std::string> Descriptions(const Batch& b) {
  std::vector<std::string> out;
  for (const Op& op : b.ops()) out.push_back(OpDescription(op));
  return out;
}

std::vector<Rule> RulesOf(const Batch& b, std::string_view chain) {
  std::vector<Rule> out;
  for (const Op& op : b.ops())
    if (op.kind == Op::Kind::kNewRule && std::get<Rule>(op.object).chain == chain)
      out.push_back(std::get<Rule>(op.object));
  return out;
}

const Rule kInputLo{"input", Concat(IifName("lo"), Accept()), std::nullopt};
const Rule kOutputLo{"output", Concat(OifName("lo"), Accept()), std::nullopt};
Rule Nd(const char* chain, uint8_t type) {
  return Rule{chain, Concat(Ip6HopLimit(255), Icmpv6Type(type), Accept()), std::nullopt};
}
Rule FinalDrop(const char* chain) {
  return Rule{chain, Concat(CountNamed(std::string("drop-") + chain), Drop()), std::nullopt};
}
Rule J(const char* chain, const std::string& target) {
  return Rule{chain, Jump(target), std::nullopt};
}

TEST(BaseTable, BaseChainsHaveTheirHooksPrioritiesAndPolicies) {
  std::vector<Chain> chains = BaseChains();
  ASSERT_EQ(chains.size(), 5u);
  EXPECT_EQ(ToString(chains[0]), "chain input { type filter hook input priority 0; policy drop; }");
  EXPECT_EQ(ToString(chains[1]),
            "chain forward { type filter hook forward priority 0; policy drop; }");
  EXPECT_EQ(ToString(chains[2]),
            "chain output { type filter hook output priority 0; policy drop; }");
  EXPECT_EQ(ToString(chains[3]),
            "chain prerouting { type nat hook prerouting priority -100; policy accept; }");
  EXPECT_EQ(ToString(chains[4]),
            "chain postrouting { type nat hook postrouting priority 100; policy accept; }");
}

TEST(BaseTable, LockdownCreatesTableCountersChainsAndFinalDrops) {
  Batch b = LockdownBatch();
  ASSERT_TRUE(b.status().ok());
  EXPECT_EQ(Descriptions(b), (std::vector<std::string>{
                                 "NEWTABLE seq 1 (table inet qnet)",
                                 "NEWOBJ seq 2 (counter drop-input)",
                                 "NEWOBJ seq 3 (counter drop-forward)",
                                 "NEWOBJ seq 4 (counter drop-output)",
                                 "NEWCHAIN seq 5 (chain input)",
                                 "NEWCHAIN seq 6 (chain forward)",
                                 "NEWCHAIN seq 7 (chain output)",
                                 "NEWCHAIN seq 8 (chain prerouting)",
                                 "NEWCHAIN seq 9 (chain postrouting)",
                                 "DELRULE seq 10 (flush chain input)",
                                 "NEWRULE seq 11 (chain input)",
                                 "NEWRULE seq 12 (chain input)",
                                 "NEWRULE seq 13 (chain input)",
                                 "NEWRULE seq 14 (chain input)",
                                 "DELRULE seq 15 (flush chain forward)",
                                 "NEWRULE seq 16 (chain forward)",
                                 "DELRULE seq 17 (flush chain output)",
                                 "NEWRULE seq 18 (chain output)",
                                 "NEWRULE seq 19 (chain output)",
                                 "NEWRULE seq 20 (chain output)",
                                 "NEWRULE seq 21 (chain output)",
                                 "NEWRULE seq 22 (chain output)",
                                 "DELRULE seq 23 (flush chain prerouting)",
                                 "DELRULE seq 24 (flush chain postrouting)",
                             }));
  EXPECT_EQ(RulesOf(b, "input"),
            (std::vector<Rule>{kInputLo, Nd("input", 135), Nd("input", 136), FinalDrop("input")}));
  EXPECT_EQ(RulesOf(b, "forward"), (std::vector<Rule>{FinalDrop("forward")}));
  EXPECT_EQ(RulesOf(b, "output"),
            (std::vector<Rule>{kOutputLo, Nd("output", 133), Nd("output", 135), Nd("output", 136),
                               FinalDrop("output")}));
  EXPECT_TRUE(RulesOf(b, "prerouting").empty());
  EXPECT_TRUE(RulesOf(b, "postrouting").empty());
}

TEST(BaseTable, RouterAdvertisementsAndRedirectsAreNeverAccepted) {
  const Batch b = LockdownBatch();
  for (const Op& op : b.ops()) {
    if (op.kind != Op::Kind::kNewRule) continue;
    for (uint8_t t : {uint8_t{134}, uint8_t{137}}) {
      const Exprs m = Icmpv6Type(t);
      const auto& ex = std::get<Rule>(op.object).exprs;
      EXPECT_EQ(std::search(ex.begin(), ex.end(), m.begin(), m.end()), ex.end());
    }
  }
}

TEST(BaseTable, InstallCapabilitiesCreatesChainsAndRefillsBaseChainsInOrder) {
  Batch b = InstallCapabilitiesBatch({"netvm", "firewall"});
  ASSERT_TRUE(b.status().ok());
  std::vector<std::string> d = Descriptions(b);
  ASSERT_GE(d.size(), 10u);
  EXPECT_EQ(d[0], "NEWCHAIN seq 1 (chain netvm-input)");
  EXPECT_EQ(d[4], "NEWCHAIN seq 5 (chain netvm-postrouting)");
  EXPECT_EQ(d[5], "NEWCHAIN seq 6 (chain firewall-input)");
  EXPECT_EQ(d[10], "DELRULE seq 11 (flush chain input)");
  for (const Op& op : b.ops()) {
    if (op.kind == Op::Kind::kNewChain) {
      EXPECT_FALSE(std::get<Chain>(op.object).base) << "only regular chains are created";
    }
    EXPECT_NE(op.kind, Op::Kind::kDelChain);
    EXPECT_NE(op.kind, Op::Kind::kDelTable);
  }
  EXPECT_EQ(
      RulesOf(b, "input"),
      (std::vector<Rule>{kInputLo, Nd("input", 135), Nd("input", 136), J("input", "netvm-input"),
                         J("input", "firewall-input"), FinalDrop("input")}));
  EXPECT_EQ(RulesOf(b, "forward"),
            (std::vector<Rule>{J("forward", "netvm-forward"), J("forward", "firewall-forward"),
                               FinalDrop("forward")}));
  EXPECT_EQ(RulesOf(b, "prerouting"), (std::vector<Rule>{J("prerouting", "netvm-prerouting"),
                                                         J("prerouting", "firewall-prerouting")}));
  EXPECT_EQ(RulesOf(b, "postrouting"),
            (std::vector<Rule>{J("postrouting", "netvm-postrouting"),
                               J("postrouting", "firewall-postrouting")}));
  // Every base chain is flushed before it is refilled.
  int flushes = 0;
  for (const Op& op : b.ops()) flushes += op.kind == Op::Kind::kFlushChain;
  EXPECT_EQ(flushes, 5);
}

TEST(BaseTable, InstallCapabilitiesRefusesEmptyAndDuplicateNames) {
  EXPECT_EQ(InstallCapabilitiesBatch({"vpn", ""}).status().error().message(),
            "capability name is empty");
  EXPECT_EQ(InstallCapabilitiesBatch({"vpn", "vpn"}).status().error().message(),
            "capability vpn listed twice");
}

TEST(BaseTable, ReplaceChainsCreatesThenFlushesAndRefillsOnlyTheGivenChainsAndSets) {
  Set clients{.name = "clients", .key = {DataType::kIpv4Addr}};
  Batch b = ReplaceChainsBatch(
      {{"fw-10-137-0-12", {Rule{"", Accept()}}},
       {"firewall-forward", {Rule{"", Concat(Ip4SaddrIn("clients"), Jump("fw-10-137-0-12"))}}}},
      {SetContents{clients, {{.key = {10, 137, 0, 12}}}}});
  ASSERT_TRUE(b.status().ok()) << b.status().error().message();
  EXPECT_EQ(Descriptions(b), (std::vector<std::string>{
                                 "NEWCHAIN seq 1 (chain firewall-forward)",
                                 "NEWCHAIN seq 2 (chain fw-10-137-0-12)",
                                 "NEWSET seq 3 (set clients)",
                                 "DELSETELEM seq 4 (flush set clients)",
                                 "NEWSETELEM seq 5 (set clients, 1 elements)",
                                 "DELRULE seq 6 (flush chain firewall-forward)",
                                 "NEWRULE seq 7 (chain firewall-forward)",
                                 "DELRULE seq 8 (flush chain fw-10-137-0-12)",
                                 "NEWRULE seq 9 (chain fw-10-137-0-12)",
                             }));
}

TEST(BaseTable, ReplaceChainsRefusesABaseChain) {
  Batch b = ReplaceChainsBatch({{"input", {Rule{"", Accept()}}}});
  ASSERT_FALSE(b.status().ok());
  EXPECT_EQ(b.status().error().message(), "chain input is a base chain; its contents are fixed");
}

}  // namespace
}  // namespace qnet::nft
