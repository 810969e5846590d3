// Render(): stable text for the compiled output. Our own format (close to
// `nft --debug=netlink`), so that golden files change only when the
// compiled values do.
#include <fmt/format.h>

#include <map>

#include "qnet/firewall/compiler.h"

namespace qnet::firewall {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
// clang 14 has no aggregate deduction, so spell the guide out.
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

std::string Hex(const nft::Bytes& b) {
  std::string out = "0x";
  for (size_t i = 0; i < b.size(); ++i) {
    if (i > 0 && i % 4 == 0) out += " 0x";
    out += fmt::format("{:02x}", b[i]);
  }
  return out;
}

std::string Reg(uint32_t r) {
  if (r >= NFT_REG32_00) return fmt::format("reg32 {:02}", r - NFT_REG32_00);
  return fmt::format("reg {}", r);
}

std::string MetaKey(uint32_t key) {
  static const std::map<uint32_t, std::string_view> kNames = {
      {NFT_META_IIFNAME, "iifname"}, {NFT_META_OIFNAME, "oifname"}, {NFT_META_NFPROTO, "nfproto"},
      {NFT_META_L4PROTO, "l4proto"}, {NFT_META_TIME_NS, "time"},    {NFT_META_SKUID, "skuid"},
  };
  auto it = kNames.find(key);
  return it != kNames.end() ? std::string(it->second) : fmt::format("key {}", key);
}

std::string CtKey(uint32_t key) {
  static const std::map<uint32_t, std::string_view> kNames = {
      {NFT_CT_STATE, "state"}, {NFT_CT_DST_IP, "dst_ip"}, {NFT_CT_DST_IP6, "dst_ip6"}};
  auto it = kNames.find(key);
  return it != kNames.end() ? std::string(it->second) : fmt::format("key {}", key);
}

std::string VerdictText(const nft::Verdict& v) {
  switch (v.code) {
    case nft::VerdictCode::kAccept:
      return "accept";
    case nft::VerdictCode::kDrop:
      return "drop";
    case nft::VerdictCode::kJump:
      return "jump " + v.chain;
    case nft::VerdictCode::kGoto:
      return "goto " + v.chain;
    case nft::VerdictCode::kReturn:
      return "return";
    case nft::VerdictCode::kContinue:
      return "continue";
  }
  return "?";
}

std::string ExprText(const nft::Expr& e) {
  return std::visit(Overloaded{
                        [](const nft::Meta& m) {
                          return fmt::format("meta load {} => {}", MetaKey(m.key), Reg(m.dreg));
                        },
                        [](const nft::Payload& p) {
                          return fmt::format("payload load {}b @ {} header + {} => {}", p.len,
                                             nft::PayloadBaseName(p.base), p.offset, Reg(p.dreg));
                        },
                        [](const nft::Cmp& c) {
                          return fmt::format("cmp {} {} {}", nft::CmpOpName(c.op), Reg(c.sreg),
                                             Hex(c.data));
                        },
                        [](const nft::Bitwise& b) {
                          return fmt::format("bitwise {} = ({} & {}) ^ {}", Reg(b.dreg),
                                             Reg(b.sreg), Hex(b.mask), Hex(b.xor_value));
                        },
                        [](const nft::Range& r) {
                          return fmt::format("range {} {} {} {}",
                                             r.op == NFT_RANGE_EQ ? "eq" : "neq", Reg(r.sreg),
                                             Hex(r.from), Hex(r.to));
                        },
                        [](const nft::Verdict& v) { return "immediate reg 0 " + VerdictText(v); },
                        [](const nft::ImmediateData& d) {
                          return fmt::format("immediate {} {}", Reg(d.dreg), Hex(d.data));
                        },
                        [](const nft::Counter&) { return std::string("counter"); },
                        [](const nft::ObjRef& o) { return "objref counter " + o.name; },
                        [](const nft::Lookup& l) {
                          std::string out = fmt::format("lookup {} set {}", Reg(l.sreg), l.set);
                          if (l.dreg) out += " dreg " + Reg(*l.dreg);
                          if (l.invert) out += " inverted";
                          return out;
                        },
                        [](const nft::Byteorder& b) {
                          return fmt::format("byteorder {} = {}({}, {}, {})", Reg(b.dreg),
                                             b.op == NFT_BYTEORDER_HTON ? "hton" : "ntoh",
                                             Reg(b.sreg), b.size, b.len);
                        },
                        [](const nft::Ct& c) {
                          std::string dir;
                          if (c.direction) dir = *c.direction == 0 ? " original" : " reply";
                          return fmt::format("ct load {}{} => {}", CtKey(c.key), dir, Reg(c.dreg));
                        },
                        [](const nft::Nat&) { return std::string("nat"); },
                        [](const nft::Masq&) { return std::string("masq"); },
                        [](const nft::Reject& r) {
                          return fmt::format("reject type {} code {}", r.type, r.code);
                        },
                        [](const nft::Unsupported& u) { return "UNSUPPORTED " + u.what; },
                    },
                    e);
}

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
  return Hex(key);
}

// A key as nft lists it: fields joined by " . " (each padded to 4 bytes in
// the key).
std::string KeyText(const nft::Bytes& key, const std::vector<nft::DataType>& type) {
  if (type.size() == 1) return FieldText(key, type[0]);
  std::string out;
  size_t at = 0;
  for (nft::DataType t : type) {
    const size_t len = nft::DataTypeLen(t);
    if (at + len > key.size()) return Hex(key);
    out += (out.empty() ? "" : " . ") +
           FieldText(nft::Bytes(key.begin() + at, key.begin() + at + len), t);
    at += (len + 3) / 4 * 4;
  }
  return at == key.size() ? out : Hex(key);
}

std::string ElementText(const nft::SetElement& e, const std::vector<nft::DataType>& type) {
  std::string out = "element " + KeyText(e.key, type);
  if (e.verdict) out += " : " + VerdictText(*e.verdict);
  if (e.data) out += " : " + Hex(*e.data);
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
      for (const nft::Expr& e : r.exprs) line += (line.empty() ? "" : " | ") + ExprText(e);
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
