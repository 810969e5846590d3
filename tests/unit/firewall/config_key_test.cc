#include "qnet/firewall/config_key.h"

#include <gtest/gtest.h>

#include <string>

#include "qnet/config/chain_file.h"
#include "qnet/config/key_registry.h"

namespace qnet::firewall {
namespace {

using config::SourcePos;
using config::Value;

constexpr int64_t kNow = 1700000000;

Value Str(std::string s, int line, int col) {
  return Value::String(std::move(s), SourcePos{"c.toml", line, col});
}

TEST(ValidateFirewallKey, AcceptsArrayOfValidRules) {
  Value v = Value::MakeArray({Str("accept web.lab tcp 80", 3, 13), Str("drop", 3, 38)});
  EXPECT_TRUE(ValidateFirewallKey(v, SourcePos{"c.toml", 3, 1}).ok());
}

TEST(ValidateFirewallKey, ErrorNamesRuleAndField) {
  Value v = Value::MakeArray(
      {Str("accept", 12, 13), Str("accept dsthost=x proto=tcp dstports=99999", 13, 5)});
  Status s = ValidateFirewallKey(v, SourcePos{"c.toml", 12, 1});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(s.error().message(),
            "rule 1 (accept dsthost=x proto=tcp dstports=99999): dstports: port "
            "99999 out of range 0-65535");
}

TEST(ValidateFirewallKey, RefusesNonStringElement) {
  Value v = Value::MakeArray({Str("accept", 2, 13), Value::Integer(7, SourcePos{"c.toml", 2, 23})});
  Status s = ValidateFirewallKey(v, SourcePos{"c.toml", 2, 1});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "rule 1: expected a string, got integer");
}

TEST(ValidateFirewallKey, RefusesNonArray) {
  Status s = ValidateFirewallKey(Str("accept", 2, 12), SourcePos{"c.toml", 2, 1});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "expected an array of rule strings, got string");
}

TEST(ValidateFirewallKey, ElementWithoutPositionHasNoPrefix) {
  Value v = Value::MakeArray({Value::String("acept")});
  Status s = ValidateFirewallKey(v, SourcePos{});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "rule 0 (acept): action: 'acept' is not accept or drop");
}

// As a saved empty list in Qubes: `firewall = []` drops everything; a qube
// without the key gets the default (accept).
TEST(RuleListFromValue, EmptyArrayIsAnExplicitListThatDropsEverything) {
  auto list = RuleListFromValue(Value::MakeArray({}), kNow);
  ASSERT_TRUE(list.has_value());
  EXPECT_FALSE(list->is_default());
  EXPECT_FALSE(list->IsDefaultAccept());
  EXPECT_TRUE(list->Effective().empty());
  EXPECT_EQ(RuleListToValue(*list).as_array().size(), 0u);
}

TEST(RuleListFromValue, AnchorsRelativeExpireAtNow) {
  auto list = RuleListFromValue(Value::MakeArray({Value::String("accept expire=+60")}), kNow);
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->rules()[0].expire, kNow + 60);
}

TEST(RuleListToValue, RoundTripsThroughCanonicalText) {
  auto list = RuleListFromValue(
      Value::MakeArray({Value::String("accept web.lab tcp 80"), Value::String("drop comment=x y")}),
      kNow);
  ASSERT_TRUE(list.has_value());
  Value v = RuleListToValue(*list);
  ASSERT_TRUE(v.is_array());
  EXPECT_EQ(v.as_array()[0].as_string(), "action=accept proto=tcp dsthost=web.lab dstports=80-80");
  auto again = RuleListFromValue(v, kNow);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *list);
}

// Through the real chain parser: the registry row wires the validator in,
// and the parser adds the file, key position and key path.
TEST(FirewallKeyRule, ChainParserReportsBadRuleAtItsPosition) {
  config::KeyRegistry registry;
  ASSERT_TRUE(registry.Add(FirewallKeyRule()).ok());
  const char* text =
      "[chain]\n"
      "name = \"t\"\n"
      "[qube.sys-net]\n"
      "role = \"net\"\n"
      "label = \"red\"\n"
      "[qube.work]\n"
      "role = \"app\"\n"
      "label = \"blue\"\n"
      "netvm = \"sys-net\"\n"
      "firewall = [\"accept\", \"drop 10.0.0.1 icmp 300\"]\n";
  auto spec = config::ParseChainText(text, "c.toml", registry);
  ASSERT_FALSE(spec.has_value());
  EXPECT_NE(
      spec.error().message().find("qube.work.firewall: rule 1 (drop 10.0.0.1 icmp 300): icmptype: "
                                  "type 300 out of range 0-255"),
      std::string::npos)
      << spec.error().message();
}

TEST(FirewallKeyRule, ChainParserAcceptsGoodRulesAndRefusesKeyOnNetQube) {
  config::KeyRegistry registry;
  ASSERT_TRUE(registry.Add(FirewallKeyRule()).ok());
  const char* good =
      "[chain]\nname = \"t\"\n"
      "[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\n"
      "[qube.work]\nrole = \"app\"\nlabel = \"blue\"\nnetvm = \"sys-net\"\n"
      "firewall = [\"accept web.lab tcp 443\", \"accept specialtarget=dns\"]\n";
  auto spec = config::ParseChainText(good, "c.toml", registry);
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  const char* on_net =
      "[chain]\nname = \"t\"\n"
      "[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\nfirewall = [\"accept\"]\n";
  EXPECT_FALSE(config::ParseChainText(on_net, "c.toml", registry).has_value());
}

}  // namespace
}  // namespace qnet::firewall
