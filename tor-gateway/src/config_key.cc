#include "qnet/tor/config_key.h"

#include <fmt/format.h>

#include <functional>

namespace qnet::tor {
namespace {

using config::Value;

std::string Where(const Value& v) {
  return v.pos().known() ? fmt::format("line {} col {}: ", v.pos().line, v.pos().col) : "";
}

Error At(const Value& v, std::string_view option, std::string message) {
  return Error(Errc::kInvalidArgument, fmt::format("{}{}: {}", Where(v), option, message));
}

Result<bool> Bool(const Value& v, std::string_view option) {
  if (!v.is_boolean())
    return At(v, option, fmt::format("expected a boolean, got {}", KindName(v.kind())));
  return v.as_boolean();
}

// Each element of a string array through `parse`.
template <typename T>
Result<std::vector<T>> Strings(const Value& v, std::string_view option,
                               const std::function<Result<T>(std::string_view)>& parse) {
  if (!v.is_array())
    return At(v, option, fmt::format("expected an array of strings, got {}", KindName(v.kind())));
  std::vector<T> out;
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    const Value& e = v.as_array()[i];
    std::string name = fmt::format("{}[{}]", option, i);
    if (!e.is_string())
      return At(e, name, fmt::format("expected a string, got {}", KindName(e.kind())));
    auto parsed = parse(e.as_string());
    if (!parsed) return At(e, name, parsed.error().message());
    out.push_back(std::move(*parsed));
  }
  return out;
}

struct OptionRow {
  std::string_view name;
  std::function<Status(const Value&, TorOptions&)> parse;
  std::function<std::optional<Value>(const TorOptions&)> format;
};

Value StringArray(const std::vector<std::string>& items) {
  Value::Array a;
  for (const std::string& s : items) a.push_back(Value::String(s));
  return Value::MakeArray(std::move(a));
}

template <typename T, typename F>
std::optional<Value> ArrayOf(const std::vector<T>& items, F format) {
  if (items.empty()) return std::nullopt;
  std::vector<std::string> out;
  for (const T& item : items) out.push_back(std::string(format(item)));
  return StringArray(out);
}

OptionRow NodeRow(std::string_view name, std::vector<NodeSpec> TorOptions::*field) {
  return {name,
          [name, field](const Value& v, TorOptions& o) -> Status {
            QNET_ASSIGN_OR_RETURN(o.*field, Strings<NodeSpec>(v, name, ParseNodeSpec));
            return OkStatus();
          },
          [field](const TorOptions& o) { return ArrayOf(o.*field, FormatNodeSpec); }};
}

OptionRow BoolRow(std::string_view name, std::optional<bool> TorOptions::*field) {
  return {name,
          [name, field](const Value& v, TorOptions& o) -> Status {
            QNET_ASSIGN_OR_RETURN(bool b, Bool(v, name));
            o.*field = b;
            return OkStatus();
          },
          [field](const TorOptions& o) -> std::optional<Value> {
            if (!(o.*field)) return std::nullopt;
            return Value::Boolean(*(o.*field));
          }};
}

const std::vector<OptionRow>& Rows() {
  static const std::vector<OptionRow> kRows = {
      {"UseBridges",
       [](const Value& v, TorOptions& o) -> Status {
         QNET_ASSIGN_OR_RETURN(o.use_bridges, Bool(v, "UseBridges"));
         return OkStatus();
       },
       [](const TorOptions& o) -> std::optional<Value> {
         if (!o.use_bridges) return std::nullopt;
         return Value::Boolean(true);
       }},
      {"ClientTransportPlugin",
       [](const Value& v, TorOptions& o) -> Status {
         QNET_ASSIGN_OR_RETURN(o.transport_plugins,
                               Strings<Transport>(v, "ClientTransportPlugin", ParseTransport));
         return OkStatus();
       },
       [](const TorOptions& o) { return ArrayOf(o.transport_plugins, TransportName); }},
      {"Bridge",
       [](const Value& v, TorOptions& o) -> Status {
         QNET_ASSIGN_OR_RETURN(o.bridges, Strings<Bridge>(v, "Bridge", ParseBridge));
         return OkStatus();
       },
       [](const TorOptions& o) { return ArrayOf(o.bridges, FormatBridge); }},
      NodeRow("EntryNodes", &TorOptions::entry_nodes),
      NodeRow("ExitNodes", &TorOptions::exit_nodes),
      NodeRow("ExcludeNodes", &TorOptions::exclude_nodes),
      BoolRow("StrictNodes", &TorOptions::strict_nodes),
      BoolRow("ClientUseIPv6", &TorOptions::client_use_ipv6),
  };
  return kRows;
}

std::string AllowedNames() {
  std::string out;
  for (const OptionRow& r : Rows()) out += (out.empty() ? "" : ", ") + std::string(r.name);
  return out;
}

}  // namespace

Result<TorOptions> TorOptionsFromValue(const Value& value) {
  if (!value.is_table())
    return Fail(Errc::kInvalidArgument, fmt::format("{}expected a table of Tor options, got {}",
                                                    Where(value), KindName(value.kind())));
  TorOptions out;
  for (const Value::Member& m : value.as_table()) {
    const OptionRow* row = nullptr;
    for (const OptionRow& r : Rows())
      if (r.name == m.key) row = &r;
    if (!row) {
      std::string where =
          m.key_pos.known() ? fmt::format("line {} col {}: ", m.key_pos.line, m.key_pos.col) : "";
      return Fail(Errc::kInvalidArgument,
                  fmt::format("{}{}: not an option qnet lets a chain file set (allowed: {})", where,
                              m.key.substr(0, 40), AllowedNames()));
    }
    QNET_TRY(row->parse(m.value, out));
  }
  Status cross = ValidateTorOptions(out);
  if (!cross.ok())
    return Fail(Errc::kInvalidArgument, fmt::format("{}{}", Where(value), cross.error().message()));
  return out;
}

Status ValidateTorKey(const Value& value, const config::SourcePos&) {
  return TorOptionsFromValue(value);
}

Value TorOptionsToValue(const TorOptions& options) {
  Value::Table members;
  for (const OptionRow& r : Rows()) {
    if (auto v = r.format(options))
      members.push_back(Value::Member{std::string(r.name), {}, std::move(*v)});
  }
  return Value::MakeTable(std::move(members));
}

config::KeyRule TorKeyRule() {
  config::KeyRule rule;
  rule.key = std::string(kTorKey);
  rule.roles = {qube::Role::kTor};
  rule.validate = ValidateTorKey;
  return rule;
}

}  // namespace qnet::tor
