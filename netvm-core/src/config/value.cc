#include "qnet/config/value.h"

#include <fmt/format.h>

#include <cassert>

namespace qnet::config {

std::string SourcePos::ToString() const {
  if (!known()) return file;
  return fmt::format("{}:{}:{}", file, line, col);
}

Value Value::String(std::string s, SourcePos pos) {
  Value v;
  v.data_ = std::move(s);
  v.pos_ = std::move(pos);
  return v;
}

Value Value::Integer(int64_t i, SourcePos pos) {
  Value v;
  v.data_ = i;
  v.pos_ = std::move(pos);
  return v;
}

Value Value::Boolean(bool b, SourcePos pos) {
  Value v;
  v.data_ = b;
  v.pos_ = std::move(pos);
  return v;
}

Value Value::MakeArray(Array elements, SourcePos pos) {
  Value v;
  v.data_ = std::move(elements);
  v.pos_ = std::move(pos);
  return v;
}

Value Value::MakeTable(Table members, SourcePos pos) {
  Value v;
  v.data_ = std::move(members);
  v.pos_ = std::move(pos);
  return v;
}

const std::string& Value::as_string() const {
  assert(is_string());
  return std::get<std::string>(data_);
}
int64_t Value::as_integer() const {
  assert(is_integer());
  return std::get<int64_t>(data_);
}
bool Value::as_boolean() const {
  assert(is_boolean());
  return std::get<bool>(data_);
}
const Value::Array& Value::as_array() const {
  assert(is_array());
  return std::get<Array>(data_);
}
const Value::Table& Value::as_table() const {
  assert(is_table());
  return std::get<Table>(data_);
}

const Value* Value::Find(std::string_view key) const {
  if (!is_table()) return nullptr;
  const Member* m = FindMember(as_table(), key);
  return m ? &m->value : nullptr;
}

Status Value::Expect(Kind want) const {
  if (kind() == want) return OkStatus();
  // "an integer", "an array": the article follows the kind's first letter.
  std::string_view name = KindName(want);
  bool vowel = name.front() == 'a' || name.front() == 'i';
  return Fail(Errc::kInvalidArgument,
              fmt::format("expected {} {}, got {}", vowel ? "an" : "a", name, KindName(kind())));
}

bool Value::operator==(const Value& other) const { return data_ == other.data_; }

std::string_view KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kInteger:
      return "integer";
    case Value::Kind::kBoolean:
      return "boolean";
    case Value::Kind::kArray:
      return "array";
    case Value::Kind::kTable:
      return "table";
  }
  return "unknown";
}

const Value::Member* FindMember(const Value::Table& table, std::string_view key) {
  for (const Value::Member& m : table) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

}  // namespace qnet::config
