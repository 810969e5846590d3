// A qube's firewall: an ordered list of rules, first match wins, and the
// list always ends in an implicit drop.
//
// A qube never given rules has Qubes' default list, the single rule
// `accept` (is_default()). Any edit makes the list explicit; removing its
// last rule, or the expiry of its last rule, leaves an explicit EMPTY list,
// which drops everything (as a saved empty list does in Qubes) and to which
// `add` appends rules that then match. Only Reset() returns to the default.
//
// Pure value, thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/firewall/rule.h"

namespace qnet::firewall {

class RuleList {
 public:
  // The default list (accept).
  RuleList() = default;
  // An explicit list (empty: everything dropped). Rules assumed valid (from
  // ParseRule or checked with Validate).
  explicit RuleList(std::vector<Rule> rules) : rules_(std::move(rules)), default_(false) {}

  // Parses one rule per line, numbered from 0; the first bad rule fails the
  // whole list with ParseNumberedRule's message ("rule 2 (...): proto: ...").
  static Result<RuleList> Parse(std::span<const std::string> lines, int64_t now);

  // The rules as configured (empty for the default and for an explicit
  // empty list).
  const std::vector<Rule>& rules() const { return rules_; }
  // True for the default list (never edited, or Reset()).
  bool is_default() const { return default_; }
  size_t size() const { return rules_.size(); }

  // The rules in force, in order: rules(), or {accept} for the default. The
  // implicit final drop is not included (an explicit empty list: none).
  std::vector<Rule> Effective() const;

  // True when the rules in force are exactly the one rule `accept` (no
  // destination, protocol, expiry or comment): what a qube gets by
  // default, and all a Tor gateway accepts for its clients.
  bool IsDefaultAccept() const;

  // Inserts `rule` before rule number `before` (as listed, from 0); nullopt
  // appends. kInvalidArgument if `before` is past the end or the rule is
  // invalid. Numbers are those of the list table (Effective()), so editing
  // the default list first makes its `accept` explicit, as qvm-firewall
  // does: `add drop ...` on a default qube gives {accept, drop ...}.
  Status Add(Rule rule, std::optional<size_t> before = std::nullopt);

  // Removes rule number `number` (as listed); kNotFound if there is none.
  Status Remove(size_t number);
  // Removes the first rule equal to `rule`; kNotFound if none is.
  Status Remove(const Rule& rule);

  // Removes the rules whose expiry has passed (expire <= now); returns how
  // many. Removing every rule leaves the explicit empty list (drop all).
  size_t RemoveExpired(int64_t now);

  // Back to the default (accept).
  void Reset() {
    rules_.clear();
    default_ = true;
  }

  // One canonical rule text per rule (FormatRule), as `--raw` prints them;
  // empty for the default and for an explicit empty list.
  std::vector<std::string> Format() const;

  bool operator==(const RuleList&) const = default;

 private:
  std::vector<Rule> rules_;
  bool default_ = true;
};

// A rule number as users type it (`del N`, `del --rule-no N`, `add
// --before N`): decimal digits, 0 = first. kInvalidArgument otherwise:
// "'x' is not a rule number (0 = first)". Whether the rule exists is the
// list's to say.
Result<size_t> ParseRuleNumber(std::string_view text);

// The list table, as `qvm-firewall list` prints it: one row per rule in
// force (Effective()), columns NO ACTION HOST PROTOCOL PORT(S) SPECIAL
// TARGET ICMP TYPE EXPIRE COMMENT; "-" for an unset field; NO from 0;
// EXPIRE as the signed time left ("+300s", "-5s"). An explicit empty list
// has no rows.
inline constexpr size_t kListColumns = 9;
using ListRow = std::array<std::string, kListColumns>;
ListRow ListHeader();
std::vector<ListRow> ListRows(const RuleList& list, int64_t now);

// Lays rows out as text: columns left-aligned, two spaces apart, no
// trailing spaces, one line per row ending in '\n'. Rows may be longer than
// kListColumns (callers add columns such as hit counts).
std::string RenderTable(std::span<const std::vector<std::string>> rows);
// What is dropped after the rows, as the table's footer:
// "(no rules: everything is dropped)" for an explicit empty list, nothing
// otherwise (every list ends in an implicit drop, as in Qubes).
std::string ListFooter(const RuleList& list);
// The whole table for `list` (header and footer included).
std::string FormatListTable(const RuleList& list, int64_t now);

}  // namespace qnet::firewall
