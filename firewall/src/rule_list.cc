#include "qnet/firewall/rule_list.h"

#include <fmt/format.h>

#include <algorithm>

#include "qnet/firewall/rule_parser.h"
#include "rule_options.h"

namespace qnet::firewall {
namespace {

Rule AcceptAll() { return Rule{.action = Action::kAccept}; }

}  // namespace

Result<RuleList> RuleList::Parse(std::span<const std::string> lines, int64_t now) {
  std::vector<Rule> rules;
  rules.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    QNET_ASSIGN_OR_RETURN(Rule rule, ParseNumberedRule(static_cast<int>(i), lines[i], now));
    rules.push_back(std::move(rule));
  }
  return RuleList(std::move(rules));
}

std::vector<Rule> RuleList::Effective() const {
  if (default_) return {AcceptAll()};
  return rules_;
}

bool RuleList::IsDefaultAccept() const {
  return default_ || (rules_.size() == 1 && rules_[0] == AcceptAll());
}

Status RuleList::Add(Rule rule, std::optional<size_t> before) {
  QNET_TRY(Validate(rule));
  std::vector<Rule> rules = Effective();
  size_t at = before.value_or(rules.size());
  if (at > rules.size()) {
    return Fail(Errc::kInvalidArgument, fmt::format("--before {}: there are only {} rules (0-{})",
                                                    at, rules.size(), rules.size() - 1));
  }
  rules.insert(rules.begin() + static_cast<std::ptrdiff_t>(at), std::move(rule));
  rules_ = std::move(rules);
  default_ = false;
  return OkStatus();
}

Status RuleList::Remove(size_t number) {
  std::vector<Rule> rules = Effective();
  if (number >= rules.size()) {
    if (rules.empty())
      return Fail(Errc::kNotFound, fmt::format("no rule {} (the list is empty)", number));
    return Fail(Errc::kNotFound,
                fmt::format("no rule {} (rules are numbered 0-{})", number, rules.size() - 1));
  }
  rules.erase(rules.begin() + static_cast<std::ptrdiff_t>(number));
  rules_ = std::move(rules);
  default_ = false;
  return OkStatus();
}

Status RuleList::Remove(const Rule& rule) {
  std::vector<Rule> rules = Effective();
  auto it = std::find(rules.begin(), rules.end(), rule);
  if (it == rules.end()) {
    return Fail(Errc::kNotFound, fmt::format("no rule '{}'", FormatRule(rule)));
  }
  rules.erase(it);
  rules_ = std::move(rules);
  default_ = false;
  return OkStatus();
}

size_t RuleList::RemoveExpired(int64_t now) {
  return std::erase_if(rules_, [now](const Rule& r) { return IsExpired(r, now); });
}

std::vector<std::string> RuleList::Format() const {
  std::vector<std::string> out;
  out.reserve(rules_.size());
  for (const Rule& r : rules_) out.push_back(FormatRule(r));
  return out;
}

Result<size_t> ParseRuleNumber(std::string_view text) {
  const bool digits = !text.empty() && text.size() <= 9 &&
                      text.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("'{}' is not a rule number (0 = first)", internal::Sanitize(text, 40)));
  }
  return static_cast<size_t>(std::stoul(std::string(text)));
}

ListRow ListHeader() {
  ListRow row;
  row[0] = "NO";
  size_t i = 1;
  for (internal::Field f : internal::ColumnOrder()) row[i++] = internal::FieldInfo(f).column;
  return row;
}

std::vector<ListRow> ListRows(const RuleList& list, int64_t now) {
  std::vector<ListRow> rows;
  std::vector<Rule> rules = list.Effective();
  for (size_t n = 0; n < rules.size(); ++n) {
    ListRow row;
    row[0] = fmt::format("{}", n);
    size_t i = 1;
    for (internal::Field f : internal::ColumnOrder()) {
      const internal::FieldRow& info = internal::FieldInfo(f);
      row[i++] = info.is_set(rules[n]) ? info.cell(rules[n], now) : "-";
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string RenderTable(std::span<const std::vector<std::string>> rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

std::string ListFooter(const RuleList& list) {
  return list.Effective().empty() ? "(no rules: everything is dropped)\n" : "";
}

std::string FormatListTable(const RuleList& list, int64_t now) {
  std::vector<std::vector<std::string>> rows;
  ListRow header = ListHeader();
  rows.emplace_back(header.begin(), header.end());
  for (const ListRow& r : ListRows(list, now)) rows.emplace_back(r.begin(), r.end());
  return RenderTable(rows) + ListFooter(list);
}

}  // namespace qnet::firewall
