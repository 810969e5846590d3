#include "firewall_cli.h"

#include <gtest/gtest.h>

namespace qnet::chain {
namespace {

nlohmann::json Request(FirewallArgs a) {
  a.qube = "work";
  auto r = FirewallRequest(a);
  EXPECT_TRUE(r.has_value()) << r.error().message();
  return r.has_value() ? *r : nlohmann::json();
}

std::string ErrorOf(FirewallArgs a, std::string_view file_text = {}) {
  a.qube = "work";
  auto r = FirewallRequest(a, "rules.txt", file_text);
  return r.has_value() ? "(no error) " + r->dump() : r.error().message();
}

TEST(FirewallCli, AllWordsOfAddFormOneRuleAsInQvmFirewall) {
  auto j =
      Request({.op = "add", .words = {"drop", "dsthost=203.0.113.10", "proto=tcp", "dstports=80"}});
  EXPECT_EQ(j["op"], "add");
  EXPECT_EQ(j["rules"], nlohmann::json({"drop dsthost=203.0.113.10 proto=tcp dstports=80"}));
  EXPECT_FALSE(j.contains("before"));
  j = Request({.op = "add", .words = {"accept"}, .before = "0"});
  EXPECT_EQ(j["before"], 0);
}

TEST(FirewallCli, AddRulesTakesEachWordAsAWholeRule) {
  auto j = Request({.op = "add", .words = {"accept specialtarget=dns", "drop"}, .several = true});
  EXPECT_EQ(j["rules"], nlohmann::json({"accept specialtarget=dns", "drop"}));
}

TEST(FirewallCli, DelTakesOneRuleFromItsWordsOrANumber) {
  EXPECT_EQ(Request({.op = "del", .words = {"drop", "203.0.113.10", "tcp", "80"}})["rules"],
            nlohmann::json({"drop 203.0.113.10 tcp 80"}));
  EXPECT_EQ(Request({.op = "del", .words = {"3"}})["rules"], nlohmann::json({"3"}));
  EXPECT_EQ(Request({.op = "del", .rule_no = "3"})["rules"], nlohmann::json({"3"}));
}

TEST(FirewallCli, ListFlagsPassThrough) {
  auto j = Request({.json = true});
  EXPECT_EQ(j["op"], "list");
  EXPECT_EQ(j["json"], true);
  EXPECT_EQ(Request({.raw = true})["raw"], true);
}

TEST(FirewallCli, BadArgumentsAreRefusedNamingTheOption) {
  EXPECT_EQ(ErrorOf({.op = "add"}), "add: give a RULE");
  EXPECT_EQ(ErrorOf({.op = "add", .words = {"accept"}, .before = "-1"}),
            "--before: '-1' is not a rule number (0 = first)");
  EXPECT_EQ(ErrorOf({.op = "del"}), "del: give a rule number or a RULE");
  EXPECT_EQ(ErrorOf({.op = "del", .rule_no = "x"}),
            "--rule-no: 'x' is not a rule number (0 = first)");
  EXPECT_EQ(ErrorOf({.op = "del", .words = {"accept"}, .rule_no = "1"}),
            "del: give --rule-no N or a RULE, not both");
}

TEST(FirewallCli, SetReadsOneRulePerLineSkippingBlanksAndComments) {
  auto r = ParseRuleFile("# web only\n\ndrop dst4=203.0.113.10 tcp 7\r\n  accept proto=tcp\n",
                         "rules.txt");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, (std::vector<std::string>{"drop dst4=203.0.113.10 tcp 7", "  accept proto=tcp"}));
  auto empty = ParseRuleFile("", "rules.txt");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());  // the explicit empty list: everything dropped
}

TEST(FirewallCli, SetRefusesABadLineNamingFileLineAndField) {
  EXPECT_EQ(ErrorOf({.op = "set"}, "accept\n\naccept proto=tcp dstports=99999\n"),
            "rules.txt:3: dstports: port 99999 out of range 0-65535");
  EXPECT_EQ(ErrorOf({.op = "set"}, "accept accept\n"),
            "rules.txt:1: dsthost: 'accept' is an action, not a hostname (one action per rule)");
}

}  // namespace
}  // namespace qnet::chain
