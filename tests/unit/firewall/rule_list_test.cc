#include "qnet/firewall/rule_list.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "qnet/firewall/rule_parser.h"

namespace qnet::firewall {
namespace {

constexpr int64_t kNow = 1700000000;

Rule R(std::string_view text) {
  auto r = ParseRule(text, kNow);
  EXPECT_TRUE(r.has_value()) << text;
  return r.has_value() ? *r : Rule{};
}

TEST(RuleList, EmptyListMeansSingleAcceptRule) {
  RuleList list;
  ASSERT_EQ(list.Effective().size(), 1u);
  EXPECT_EQ(FormatRule(list.Effective()[0]), "action=accept");
  EXPECT_TRUE(list.IsDefaultAccept());
}

TEST(RuleList, ExplicitAcceptIsDefaultButRestrictedAcceptIsNot) {
  EXPECT_TRUE(RuleList({R("accept")}).IsDefaultAccept());
  EXPECT_FALSE(RuleList({R("accept 10.0.0.0/8")}).IsDefaultAccept());
  EXPECT_FALSE(RuleList({R("accept comment=x")}).IsDefaultAccept());
  EXPECT_FALSE(RuleList({R("drop")}).IsDefaultAccept());
  EXPECT_FALSE(RuleList({R("accept"), R("drop")}).IsDefaultAccept());
}

TEST(RuleList, ParseNumbersRulesFromZeroInErrors) {
  std::vector<std::string> lines = {"accept 10.0.0.1", "drop proto=tcp dstports=1-2-3"};
  auto list = RuleList::Parse(lines, kNow);
  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().message(),
            "rule 1 (drop proto=tcp dstports=1-2-3): dstports: '1-2-3' is not a port or port "
            "range (443 or 8000-8080)");
}

TEST(RuleList, AddToDefaultListKeepsTheListedAccept) {
  RuleList list;
  ASSERT_TRUE(list.Add(R("drop 10.0.0.1")).ok());
  EXPECT_EQ(list.Format(),
            (std::vector<std::string>{"action=accept", "action=drop dst4=10.0.0.1/32"}));
}

TEST(RuleList, AddBeforeInsertsAtListedNumber) {
  RuleList list({R("accept 10.0.0.1"), R("drop")});
  ASSERT_TRUE(list.Add(R("accept 10.0.0.2"), 1).ok());
  ASSERT_TRUE(list.Add(R("accept 10.0.0.3"), 0).ok());
  EXPECT_EQ(list.Format(), (std::vector<std::string>{
                               "action=accept dst4=10.0.0.3/32", "action=accept dst4=10.0.0.1/32",
                               "action=accept dst4=10.0.0.2/32", "action=drop"}));
  Status s = list.Add(R("accept"), 9);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "--before 9: there are only 4 rules (0-3)");
}

TEST(RuleList, AddRefusesInvalidRule) {
  RuleList list;
  Rule bad{.action = Action::kAccept, .icmptype = 8};
  Status s = list.Add(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "icmptype: valid only with proto=icmp");
  EXPECT_TRUE(list.is_default());
}

TEST(RuleList, RemovingLastRuleLeavesAnEmptyListThatDropsEverything) {
  RuleList list({R("accept 10.0.0.1")});
  ASSERT_TRUE(list.Remove(0).ok());
  EXPECT_TRUE(list.Format().empty());
  EXPECT_TRUE(list.Effective().empty());
  EXPECT_FALSE(list.is_default());
  EXPECT_FALSE(list.IsDefaultAccept());
  EXPECT_EQ(ListFooter(list), "(no rules: everything is dropped)\n");
  Status s = list.Remove(0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "no rule 0 (the list is empty)");
}

// The walk of `del accept`, then `add drop ...`, then `add accept`: the
// added rules are the list, in order, with no drop ahead of them.
TEST(RuleList, RulesAddedAfterDeletingTheDefaultAcceptAreTheList) {
  RuleList list;
  ASSERT_TRUE(list.Remove(R("accept")).ok());
  ASSERT_TRUE(list.Add(R("drop dsthost=203.0.113.10 proto=tcp dstports=80")).ok());
  ASSERT_TRUE(list.Add(R("accept")).ok());
  EXPECT_EQ(list.Format(),
            (std::vector<std::string>{"action=drop proto=tcp dst4=203.0.113.10/32 dstports=80-80",
                                      "action=accept"}));
  EXPECT_EQ(ListFooter(list), "");
}

TEST(RuleList, RemoveByTextAndByNumber) {
  RuleList list({R("accept 10.0.0.1"), R("accept 10.0.0.2"), R("drop")});
  ASSERT_TRUE(list.Remove(R("action=accept dst4=10.0.0.2/32")).ok());
  EXPECT_EQ(list.size(), 2u);
  Status missing = list.Remove(R("accept 10.9.9.9"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_EQ(missing.error().message(), "no rule 'action=accept dst4=10.9.9.9/32'");
  Status s = list.Remove(5);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "no rule 5 (rules are numbered 0-1)");
}

TEST(RuleList, ResetReturnsToDefault) {
  RuleList list({R("drop")});
  list.Reset();
  EXPECT_TRUE(list.IsDefaultAccept());
}

TEST(RuleList, RemoveExpiredDropsOnlyPastRulesAndNeverFallsBackToAccept) {
  RuleList list({R("accept 10.0.0.1 expire=+10"), R("accept 10.0.0.2 expire=+100")});
  EXPECT_EQ(list.RemoveExpired(kNow + 9), 0u);
  EXPECT_EQ(list.RemoveExpired(kNow + 10), 1u);
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(list.RemoveExpired(kNow + 100), 1u);
  EXPECT_TRUE(list.Effective().empty());
  EXPECT_FALSE(list.IsDefaultAccept());
}

TEST(ListTable, PrintsQubesColumnsWithDashesAndTimeLeft) {
  RuleList list({R("accept web.lab tcp 80-8080 comment=the web"),
                 R("accept specialtarget=dns expire=+300"),
                 R("drop fd00::/8 icmp 128 expire=1699999995"), R("drop")});
  EXPECT_EQ(FormatListTable(list, kNow),
            "NO  ACTION  HOST      PROTOCOL  PORT(S)  SPECIAL TARGET  ICMP TYPE  EXPIRE  COMMENT\n"
            "0   accept  web.lab   tcp       80-8080  -               -          -       the web\n"
            "1   accept  -         -         -        dns             -          +300s   -\n"
            "2   drop    fd00::/8  icmp      -        -               128        -5s     -\n"
            "3   drop    -         -         -        -               -          -       -\n");
}

TEST(ListTable, DefaultListShowsItsAccept) {
  auto rows = ListRows(RuleList(), kNow);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "0");
  EXPECT_EQ(rows[0][1], "accept");
  EXPECT_EQ(rows[0][2], "-");
}

TEST(ListTable, SinglePortShownWithoutRange) {
  auto rows = ListRows(RuleList({R("accept 10.0.0.1 udp 53")}), kNow);
  EXPECT_EQ(rows[0][2], "10.0.0.1/32");
  EXPECT_EQ(rows[0][4], "53");
}

TEST(ParseRuleNumber, DigitsAreANumberAndAnythingElseIsRefusedNamingIt) {
  EXPECT_EQ(ParseRuleNumber("0").value(), 0u);
  EXPECT_EQ(ParseRuleNumber("17").value(), 17u);
  for (const char* bad : {"", "-1", "1x", "+3", "1234567890", " 1"}) {
    auto n = ParseRuleNumber(bad);
    ASSERT_FALSE(n.has_value()) << bad;
    EXPECT_EQ(n.error().message(), fmt::format("'{}' is not a rule number (0 = first)", bad));
  }
}

}  // namespace
}  // namespace qnet::firewall
