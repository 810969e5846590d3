// ChainSpec -> chain file text (`qnet save`). Written so that parsing the
// text gives the same spec back; the user's own file is never rewritten.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "qnet/config/chain_file.h"

namespace qnet::config {
namespace {

bool IsBareKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// A TOML basic string. TOML forbids raw control characters (tab aside) and
// DEL in one; everything else, UTF-8 included, is written as is.
std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += fmt::format("\\u{:04X}", u);
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

void AppendValue(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString:
      out += QuoteString(v.as_string());
      break;
    case Value::Kind::kInteger:
      out += fmt::format("{}", v.as_integer());
      break;
    case Value::Kind::kBoolean:
      out += v.as_boolean() ? "true" : "false";
      break;
    case Value::Kind::kArray: {
      out += '[';
      bool first = true;
      for (const Value& e : v.as_array()) {
        if (!first) out += ", ";
        first = false;
        AppendValue(out, e);
      }
      out += ']';
      break;
    }
    case Value::Kind::kTable: {
      if (v.as_table().empty()) {
        out += "{}";
        break;
      }
      out += "{ ";
      bool first = true;
      for (const Value::Member& m : v.as_table()) {
        if (!first) out += ", ";
        first = false;
        out += FormatKey(m.key);
        out += " = ";
        AppendValue(out, m.value);
      }
      out += " }";
      break;
    }
  }
}

void AppendKeyValue(std::string& out, std::string_view key, const Value& v) {
  out += FormatKey(key);
  out += " = ";
  AppendValue(out, v);
  out += '\n';
}

void AppendQube(std::string& out, const QubeSpec& q) {
  out += fmt::format("\n[qube.{}]\n", FormatKey(q.name));
  AppendKeyValue(out, "role", Value::String(std::string(qube::RoleName(q.role))));
  AppendKeyValue(out, "label", Value::String(std::string(qube::LabelName(q.label))));
  if (q.id_explicit) AppendKeyValue(out, "id", Value::Integer(q.id));
  if (q.netvm) AppendKeyValue(out, "netvm", Value::String(*q.netvm));
  if (!q.template_dir.empty()) AppendKeyValue(out, "template", Value::String(q.template_dir));
  if (q.dispvm) AppendKeyValue(out, "dispvm", Value::Boolean(true));
  for (const Value::Member& m : q.extra) AppendKeyValue(out, m.key, m.value);
}

}  // namespace

std::string FormatKey(std::string_view key) {
  return IsBareKey(key) ? std::string(key) : QuoteString(key);
}

std::string FormatChainFile(const ChainSpec& spec) {
  std::string out = "[chain]\n";
  AppendKeyValue(out, "name", Value::String(spec.name));
  AppendKeyValue(out, "ipv6", Value::String(std::string(Ipv6ModeName(spec.ipv6))));
  if (spec.lab) {
    out += "\n[lab]\n";
    for (const Value::Member& m : spec.lab->keys) AppendKeyValue(out, m.key, m.value);
  }
  for (const QubeSpec& q : spec.qubes) AppendQube(out, q);
  return out;
}

}  // namespace qnet::config
