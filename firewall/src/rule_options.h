// The rule option table: one row per key of the rule language (its field,
// its value parser) and one row per field (its canonical keyword text, its
// list-table cell). Parser, formatter, validator and the list table all
// dispatch through these rows, as Qubes' RuleOption classes do.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "qnet/base/result.h"
#include "qnet/firewall/rule.h"

namespace qnet::firewall::internal {

enum class Field : uint8_t {
  kAction,
  kDst,
  kProto,
  kDstPorts,
  kIcmpType,
  kSpecialTarget,
  kExpire,
  kComment,
};
inline constexpr size_t kFieldCount = 8;

// The latest expiry accepted: Qubes' datetime.utcfromtimestamp refuses
// anything past the year 9999, which also keeps now + N from overflowing.
inline constexpr int64_t kMaxExpire = 253402300799;

// The longest comment accepted. Qubes' rule model checks only the comment's
// characters; the cap keeps a rule list a few kilobytes, as it travels to the
// agent and back in every listing.
inline constexpr size_t kMaxCommentLength = 256;

struct ParseContext {
  int64_t now = 0;
};

// A key accepted in text. dsthost, dst4 and dst6 share the field kDst.
struct KeyRow {
  std::string_view key;
  Field field;
  // Parses `value` into its field of `rule`; the error message names no
  // field (the caller prefixes the key).
  Status (*parse)(std::string_view value, const ParseContext& ctx, Rule& rule);
};

struct FieldRow {
  Field field;
  std::string_view name;    // "dsthost", used in errors about the field
  std::string_view column;  // list-table header, "HOST"
  bool (*is_set)(const Rule& rule);
  // "key=value" in canonical form; called only when is_set.
  std::string (*keyword)(const Rule& rule);
  // The list-table cell; called only when is_set.
  std::string (*cell)(const Rule& rule, int64_t now);
};

// Looks up a key; nullptr when unknown.
const KeyRow* FindKey(std::string_view key);
// All keys, for error messages ("known: action, dsthost, ...").
std::string KnownKeys();

const FieldRow& FieldInfo(Field field);
// Field order of the canonical keyword text (as qvm-firewall --raw prints).
std::span<const Field> KeywordOrder();
// Column order of the list table (after NO).
std::span<const Field> ColumnOrder();

// Character-set checks shared by the parser and Validate.
Status CheckSafeChars(std::string_view value);
Status CheckComment(std::string_view comment);
// RFC 1123 host names: labels of letters, digits and '-' (neither first nor
// last), 1-63 characters; not an action word, not a name a resolver would
// read as an IPv4 address ("0xcb00710a").
Status CheckHostname(std::string_view name);
// A network written with host bits set ("203.0.113.10/24") is refused, as
// Python's ipaddress (strict) refuses it.
Status CheckNoHostBits(const IpPrefix& prefix);

// Untrusted text made fit for an error message: control and non-ASCII bytes
// become '?', and text longer than `max` is cut with "...".
std::string Sanitize(std::string_view text, size_t max = 120);

}  // namespace qnet::firewall::internal
