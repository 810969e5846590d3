// Value: one node of a parsed chain file (string, integer, boolean, array or
// table) with the position it came from. Independent of the TOML library.
// A plain value type: copy freely; not synchronised.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "qnet/base/result.h"

namespace qnet::config {

// Where a node starts in its file; line and col count from 1. A value built
// in code has line 0 ("no position").
struct SourcePos {
  std::string file;
  int line = 0;
  int col = 0;

  bool known() const { return line > 0; }
  // "file:line:col", or just "file" (possibly empty) when the line is unknown.
  std::string ToString() const;

  auto operator<=>(const SourcePos&) const = default;
};

class Value {
 public:
  enum class Kind { kString, kInteger, kBoolean, kArray, kTable };
  struct Member;  // one key = value of a table
  using Array = std::vector<Value>;
  using Table = std::vector<Member>;  // in file order; keys are unique

  // A default Value is the empty string.
  Value() = default;
  static Value String(std::string s, SourcePos pos = {});
  static Value Integer(int64_t i, SourcePos pos = {});
  static Value Boolean(bool b, SourcePos pos = {});
  static Value MakeArray(Array elements, SourcePos pos = {});
  static Value MakeTable(Table members, SourcePos pos = {});

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_integer() const { return kind() == Kind::kInteger; }
  bool is_boolean() const { return kind() == Kind::kBoolean; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_table() const { return kind() == Kind::kTable; }
  const SourcePos& pos() const { return pos_; }

  // Accessors assert the kind; check it first (or use Expect).
  const std::string& as_string() const;
  int64_t as_integer() const;
  bool as_boolean() const;
  const Array& as_array() const;
  const Table& as_table() const;

  // The member named key of a table; nullptr if absent or not a table.
  const Value* Find(std::string_view key) const;

  // OkStatus if the kind is `want`, else kInvalidArgument with the message
  //   expected a string, got integer
  // (no position: callers prefix it, see key_registry.h).
  Status Expect(Kind want) const;

  // Equality compares content (kind, scalars, elements, members in order),
  // never positions: a file that is reformatted compares equal.
  bool operator==(const Value& other) const;

 private:
  std::variant<std::string, int64_t, bool, Array, Table> data_;
  SourcePos pos_;
};

struct Value::Member {
  std::string key;
  SourcePos key_pos;  // where the key itself is written
  Value value;

  // Compares key and value, not key_pos.
  bool operator==(const Member& other) const { return key == other.key && value == other.value; }
};

// "string", "integer", "boolean", "array" or "table".
std::string_view KindName(Value::Kind kind);

// Finds a member of a table by key; nullptr if absent.
const Value::Member* FindMember(const Value::Table& table, std::string_view key);

}  // namespace qnet::config
