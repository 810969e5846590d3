// toml++ is built with exceptions in Debian's shared library (there are no
// "noex" symbols to link against), so parse errors arrive as
// toml::parse_error; they are caught here and never leave this file.
#include "toml_reader.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <string>

#include "errors.h"

namespace qnet::config::internal {
namespace {

SourcePos PosOf(const toml::source_region& region, const std::string& file) {
  return SourcePos{file, static_cast<int>(region.begin.line),
                   static_cast<int>(region.begin.column)};
}

std::string_view TomlTypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::floating_point:
      return "floating-point";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "unknown";
  }
}

// toml++ words a repeated table or key as a "redefinition"; say what the
// user did instead, naming the qube when it is one.
std::string DescribeParseError(std::string_view description) {
  constexpr std::string_view kRedefine = "cannot redefine existing ";
  size_t at = description.find(kRedefine);
  if (at == std::string_view::npos) return fmt::format("syntax error: {}", description);
  std::string_view rest = description.substr(at + kRedefine.size());
  size_t open = rest.find('\'');
  size_t close = rest.rfind('\'');
  if (open == std::string_view::npos || close <= open) {
    return fmt::format("syntax error: {}", description);
  }
  std::string_view kind = rest.substr(0, open);
  std::string_view name = rest.substr(open + 1, close - open - 1);
  if (kind == "table ") {
    constexpr std::string_view kQube = "qube.";
    if (name.starts_with(kQube)) {
      std::string_view qube = name.substr(kQube.size());
      return fmt::format("{}: duplicate qube '{}' (each [qube.NAME] table is written once)", name,
                         qube);
    }
    return fmt::format("{}: table [{}] is defined twice", name, name);
  }
  return fmt::format("syntax error: key '{}' is set twice in its table", name);
}

class Converter {
 public:
  explicit Converter(std::string file) : file_(std::move(file)) {}

  Result<Value> Convert(const toml::node& node, const std::string& path) {
    SourcePos pos = PosOf(node.source(), file_);
    switch (node.type()) {
      case toml::node_type::string:
        return Value::String(std::string(node.as_string()->get()), pos);
      case toml::node_type::integer:
        return Value::Integer(node.as_integer()->get(), pos);
      case toml::node_type::boolean:
        return Value::Boolean(node.as_boolean()->get(), pos);
      case toml::node_type::array:
        return ConvertArray(*node.as_array(), path, pos);
      case toml::node_type::table:
        return ConvertTable(*node.as_table(), path, pos);
      default:
        return Fail(ConfigError(
            pos, path,
            fmt::format(
                "unsupported value type {} (use a string, integer, boolean, array or table)",
                TomlTypeName(node.type()))));
    }
  }

 private:
  Result<Value> ConvertArray(const toml::array& array, const std::string& path,
                             const SourcePos& pos) {
    Value::Array elements;
    elements.reserve(array.size());
    for (size_t i = 0; i < array.size(); ++i) {
      QNET_ASSIGN_OR_RETURN(Value element, Convert(array[i], fmt::format("{}[{}]", path, i)));
      elements.push_back(std::move(element));
    }
    return Value::MakeArray(std::move(elements), pos);
  }

  Result<Value> ConvertTable(const toml::table& table, const std::string& path,
                             const SourcePos& pos) {
    // toml++ keeps a table's keys sorted by name; the spec wants file order,
    // which the keys' own positions give back.
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (auto&& [key, node] : table) entries.emplace_back(&key, &node);
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      const auto& pa = a.first->source().begin;
      const auto& pb = b.first->source().begin;
      return std::tie(pa.line, pa.column) < std::tie(pb.line, pb.column);
    });
    Value::Table members;
    members.reserve(entries.size());
    for (const auto& [key, node] : entries) {
      std::string key_str(key->str());
      QNET_ASSIGN_OR_RETURN(Value value, Convert(*node, JoinKeyPath(path, key_str)));
      members.push_back(
          Value::Member{std::move(key_str), PosOf(key->source(), file_), std::move(value)});
    }
    return Value::MakeTable(std::move(members), pos);
  }

  std::string file_;
};

}  // namespace

Result<Value> ReadToml(std::string_view text, std::string_view display_path) {
  std::string file(display_path);
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    SourcePos pos = PosOf(e.source(), file);
    return Fail(Errc::kInvalidArgument,
                fmt::format("{}: {}", pos.ToString(), DescribeParseError(e.description())));
  }
  Converter converter(file);
  QNET_ASSIGN_OR_RETURN(Value value, converter.Convert(root, ""));
  // The root table starts where the file does, whatever toml++ recorded.
  return Value::MakeTable(value.as_table(), SourcePos{file, 1, 1});
}

}  // namespace qnet::config::internal
