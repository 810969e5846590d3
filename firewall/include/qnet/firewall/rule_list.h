// A qube's firewall: an ordered list of rules, first match wins, and the
// list always ends in an implicit drop.
//
// An empty list is Qubes' default for a qube never given rules: the single
// rule `accept`. An edit never empties a list by accident: removing the
// last rule, or dropping the last expired one, leaves the explicit rule
// `drop` (in Qubes a saved empty list also drops everything); only Reset()
// returns to the default.
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
  RuleList() = default;
  // Rules assumed valid (from ParseRule or checked with Validate).
  explicit RuleList(std::vector<Rule> rules) : rules_(std::move(rules)) {}

  // Parses one rule per line, numbered from 0; the first bad rule fails the
  // whole list with ParseNumberedRule's message ("rule 2 (...): proto: ...").
  static Result<RuleList> Parse(std::span<const std::string> lines, int64_t now);

  // The rules as configured (empty for the default).
  const std::vector<Rule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }
  size_t size() const { return rules_.size(); }

  // The rules in force, in order: rules(), or {accept} when empty. The
  // implicit final drop is not included.
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
  // many. Leaves `drop` if that removed every rule.
  size_t RemoveExpired(int64_t now);

  // Back to the default (empty: accept).
  void Reset() { rules_.clear(); }

  // One canonical rule text per rule (FormatRule), as `--raw` prints them.
  std::vector<std::string> Format() const;

  bool operator==(const RuleList&) const = default;

 private:
  void KeepNonEmpty();

  std::vector<Rule> rules_;
};

// The list table, as `qvm-firewall list` prints it: one row per rule in
// force (Effective()), columns NO ACTION HOST PROTOCOL PORT(S) SPECIAL
// TARGET ICMP TYPE EXPIRE COMMENT; "-" for an unset field; NO from 0;
// EXPIRE as the signed time left ("+300s", "-5s").
inline constexpr size_t kListColumns = 9;
using ListRow = std::array<std::string, kListColumns>;
ListRow ListHeader();
std::vector<ListRow> ListRows(const RuleList& list, int64_t now);

// Lays rows out as text: columns left-aligned, two spaces apart, no
// trailing spaces, one line per row ending in '\n'. Rows may be longer than
// kListColumns (callers add columns such as hit counts).
std::string RenderTable(std::span<const std::vector<std::string>> rows);
// The whole table for `list` (header included).
std::string FormatListTable(const RuleList& list, int64_t now);

}  // namespace qnet::firewall
