#include "firewall_cli.h"

#include <fmt/format.h>

#include "qnet/firewall/rule_list.h"
#include "qnet/firewall/rule_parser.h"

namespace qnet::chain {
namespace {

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

Result<size_t> RuleNumber(std::string_view option, const std::string& text) {
  auto n = firewall::ParseRuleNumber(text);
  if (!n) return Fail(n.error().Wrap(option));
  return n;
}

Result<std::vector<std::string>> DelRule(const FirewallArgs& a) {
  if (!a.rule_no.empty() && !a.words.empty())
    return Fail(Errc::kInvalidArgument, "del: give --rule-no N or a RULE, not both");
  if (!a.rule_no.empty()) {
    QNET_ASSIGN_OR_RETURN(size_t n, RuleNumber("--rule-no", a.rule_no));
    return std::vector<std::string>{std::to_string(n)};
  }
  if (a.words.empty()) return Fail(Errc::kInvalidArgument, "del: give a rule number or a RULE");
  return std::vector<std::string>{JoinWords(a.words)};
}

}  // namespace

Result<std::vector<std::string>> ParseRuleFile(std::string_view text, std::string_view name) {
  std::vector<std::string> rules;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    // Only checked here (qnetd parses it again at its own time).
    auto rule = firewall::ParseRule(line, 0);
    if (!rule) return Fail(rule.error().Wrap(fmt::format("{}:{}", name, line_no)));
    rules.emplace_back(line);
  }
  return rules;
}

Result<nlohmann::json> FirewallRequest(const FirewallArgs& a, std::string_view file_name,
                                       std::string_view file_text) {
  nlohmann::json in = {{"qube", a.qube}, {"op", a.op}, {"json", a.json}, {"raw", a.raw}};
  std::vector<std::string> rules;
  if (a.op == "add") {
    if (a.words.empty()) return Fail(Errc::kInvalidArgument, "add: give a RULE");
    rules = a.several ? a.words : std::vector<std::string>{JoinWords(a.words)};
    if (!a.before.empty()) {
      QNET_ASSIGN_OR_RETURN(size_t n, RuleNumber("--before", a.before));
      in["before"] = n;
    }
  } else if (a.op == "del") {
    QNET_ASSIGN_OR_RETURN(rules, DelRule(a));
  } else if (a.op == "set") {
    QNET_ASSIGN_OR_RETURN(rules, ParseRuleFile(file_text, file_name));
  }
  in["rules"] = rules;
  return in;
}

}  // namespace qnet::chain
