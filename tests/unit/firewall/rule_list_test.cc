#include "qnet/firewall/rule_list.h"

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
  EXPECT_TRUE(list.empty());
}

TEST(RuleList, RemovingLastRuleLeavesDropNotDefaultAccept) {
  RuleList list({R("accept 10.0.0.1")});
  ASSERT_TRUE(list.Remove(0).ok());
  EXPECT_EQ(list.Format(), std::vector<std::string>{"action=drop"});
  EXPECT_FALSE(list.IsDefaultAccept());
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

TEST(RuleList, RemoveExpiredDropsOnlyPastRulesAndNeverEmptiesToAccept) {
  RuleList list({R("accept 10.0.0.1 expire=+10"), R("accept 10.0.0.2 expire=+100")});
  EXPECT_EQ(list.RemoveExpired(kNow + 9), 0u);
  EXPECT_EQ(list.RemoveExpired(kNow + 10), 1u);
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(list.RemoveExpired(kNow + 100), 1u);
  EXPECT_EQ(list.Format(), std::vector<std::string>{"action=drop"});
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

}  // namespace
}  // namespace qnet::firewall
