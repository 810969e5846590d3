#include "qnet/firewall/config_key.h"

#include <fmt/format.h>

#include "qnet/firewall/rule_parser.h"

namespace qnet::firewall {
namespace {

// "line 12 col 5: " for an element with a known position, else "". The
// chain-file check leaves it out: config prefixes the key's own position.
std::string Where(const config::Value& element, bool with_pos) {
  const config::SourcePos& pos = element.pos();
  if (!with_pos || !pos.known()) return "";
  return fmt::format("line {} col {}: ", pos.line, pos.col);
}

Result<RuleList> Convert(const config::Value& value, int64_t now, bool with_pos) {
  if (!value.is_array()) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("expected an array of rule strings, got {}", KindName(value.kind())));
  }
  const config::Value::Array& elements = value.as_array();
  std::vector<Rule> rules;
  rules.reserve(elements.size());
  for (size_t i = 0; i < elements.size(); ++i) {
    const config::Value& element = elements[i];
    int number = static_cast<int>(i);
    if (!element.is_string()) {
      return Fail(Errc::kInvalidArgument,
                  fmt::format("{}rule {}: expected a string, got {}", Where(element, with_pos),
                              number, KindName(element.kind())));
    }
    auto rule = ParseNumberedRule(number, element.as_string(), now);
    if (!rule) {
      return Fail(Errc::kInvalidArgument,
                  fmt::format("{}{}", Where(element, with_pos), rule.error().message()));
    }
    rules.push_back(std::move(rule).value());
  }
  return RuleList(std::move(rules));
}

}  // namespace

Status ValidateFirewallKey(const config::Value& value, const config::SourcePos&) {
  // expire=+N is relative to when the chain goes up; any anchor checks syntax.
  return Convert(value, 0, /*with_pos=*/false);
}

Result<RuleList> RuleListFromValue(const config::Value& value, int64_t now) {
  return Convert(value, now, /*with_pos=*/true);
}

config::Value RuleListToValue(const RuleList& list) {
  config::Value::Array elements;
  for (std::string& text : list.Format())
    elements.push_back(config::Value::String(std::move(text)));
  return config::Value::MakeArray(std::move(elements));
}

config::KeyRule FirewallKeyRule() {
  config::KeyRule rule;
  rule.key = std::string(kFirewallKey);
  rule.any_networked = true;
  rule.validate = ValidateFirewallKey;
  return rule;
}

}  // namespace qnet::firewall
