// Render(): stable text for the compiled output. Our own format (close to
// `nft --debug=netlink`), so that golden files change only when the
// compiled values do.
#include <fmt/format.h>

#include <map>

#include "qnet/firewall/compiler.h"

namespace qnet::firewall {
namespace {

std::string FieldText(const nft::Bytes& key, nft::DataType type) {
  if (type == nft::DataType::kIpv4Addr && key.size() == 4) {
    return IpAddr::V4(key[0], key[1], key[2], key[3]).ToString();
  }
  if (type == nft::DataType::kIpv6Addr && key.size() == 16) {
    std::array<uint8_t, 16> b{};
    std::copy(key.begin(), key.end(), b.begin());
    return IpAddr::V6(b).ToString();
  }
  if (type == nft::DataType::kIfname) {
    std::string name(key.begin(), key.end());
    return fmt::format("\"{}\"", name.substr(0, name.find('\0')));
  }
  return nft::HexBytes(key);
}

// A key as nft lists it: fields joined by " . " (each padded to 4 bytes in
// the key).
std::string KeyText(const nft::Bytes& key, const std::vector<nft::DataType>& type) {
  if (type.size() == 1) return FieldText(key, type[0]);
  std::string out;
  size_t at = 0;
  for (nft::DataType t : type) {
    const size_t len = nft::DataTypeLen(t);
    if (at + len > key.size()) return nft::HexBytes(key);
    out += (out.empty() ? "" : " . ") +
           FieldText(nft::Bytes(key.begin() + at, key.begin() + at + len), t);
    at += (len + 3) / 4 * 4;
  }
  return at == key.size() ? out : nft::HexBytes(key);
}

std::string ElementText(const nft::SetElement& e, const std::vector<nft::DataType>& type) {
  std::string out = "element " + KeyText(e.key, type);
  if (e.verdict) out += " : " + nft::ToString(*e.verdict);
  if (e.data) out += " : " + nft::HexBytes(*e.data);
  if (e.timeout) out += fmt::format(" timeout {}s", e.timeout->count() / 1000);
  return out;
}

std::string SetText(const nft::Set& s) {
  std::string type;
  for (nft::DataType t : s.key)
    type += (type.empty() ? "" : " . ") + std::string(nft::DataTypeName(t));
  std::string out = fmt::format("set {} type {}", s.name, type);
  if (s.data) out += fmt::format(" : {}", nft::DataTypeName(*s.data));
  if (s.constant) out += " constant";
  if (s.interval) out += " interval";
  if (s.timeout) out += " timeout";
  return out + "\n";
}

void AppendChains(std::string& out, const std::vector<nft::Chain>& chains,
                  const std::vector<nft::Rule>& rules) {
  for (const nft::Chain& c : chains) {
    out += fmt::format("chain {}\n", c.name);
    for (const nft::Rule& r : rules) {
      if (r.chain != c.name) continue;
      std::string line;
      for (const nft::Expr& e : r.exprs) line += (line.empty() ? "" : " | ") + nft::ToString(e);
      out += fmt::format("  [{}] {}\n", r.comment.value_or("-"), line);
    }
  }
}

}  // namespace

std::string Render(const CompiledFirewall& compiled) {
  std::string out = "# shared\n";
  AppendChains(out, compiled.chains, compiled.rules);
  std::map<std::string, std::vector<nft::DataType>> types;
  for (const nft::Set& s : compiled.sets) {
    out += SetText(s);
    types[s.name] = s.key;
  }
  for (const nft::CounterObject& c : compiled.counters) out += fmt::format("counter {}\n", c.name);
  for (const ClientRules& client : compiled.clients) {
    out += fmt::format("\n# client {} (id {})\n", client.name, client.id);
    AppendChains(out, client.chains, client.rules);
    for (const nft::SetContents& s : client.sets) {
      out += SetText(s.set);
      for (const nft::SetElement& e : s.elements) out += "  " + ElementText(e, s.set.key) + "\n";
    }
    for (const nft::CounterObject& c : client.counters) out += fmt::format("counter {}\n", c.name);
    for (const SetEntries& m : client.map_entries) {
      for (const nft::SetElement& e : m.elements) {
        out += fmt::format("map {} {}\n", m.set, ElementText(e, types[m.set]));
      }
    }
    for (const std::string& note : client.notes) out += "note: " + note + "\n";
  }
  return out;
}

}  // namespace qnet::firewall
