#include "qnet/nft/ruleset.h"

#include <fmt/format.h>

#include <string>

#include "overloaded.h"

namespace qnet::nft {
namespace {

using internal::Overloaded;

// Register words as nft --debug=netlink prints them (host-order 32-bit words).
std::string Hex(const Bytes& b) {
  std::string out;
  for (size_t i = 0; i < b.size(); i += 4) {
    uint32_t w = 0;
    for (size_t j = 0; j < 4 && i + j < b.size(); ++j) w |= uint32_t{b[i + j]} << (8 * j);
    if (!out.empty()) out += ' ';
    out += fmt::format("0x{:08x}", w);
  }
  return out;
}

}  // namespace

const char* CmpOpName(uint32_t op) {
  switch (op) {
    case NFT_CMP_EQ:
      return "eq";
    case NFT_CMP_NEQ:
      return "neq";
    case NFT_CMP_LT:
      return "lt";
    case NFT_CMP_LTE:
      return "lte";
    case NFT_CMP_GT:
      return "gt";
    case NFT_CMP_GTE:
      return "gte";
  }
  return "?";
}

const char* PayloadBaseName(uint32_t base) {
  switch (base) {
    case NFT_PAYLOAD_LL_HEADER:
      return "link";
    case NFT_PAYLOAD_NETWORK_HEADER:
      return "network";
    case NFT_PAYLOAD_TRANSPORT_HEADER:
      return "transport";
  }
  return "?";
}

const char* FamilyName(Family f) {
  switch (f) {
    case Family::kInet:
      return "inet";
    case Family::kIp:
      return "ip";
    case Family::kIp6:
      return "ip6";
  }
  return "?";
}

const char* ChainTypeName(ChainType t) { return t == ChainType::kNat ? "nat" : "filter"; }

const char* HookName(Hook h) {
  switch (h) {
    case Hook::kPrerouting:
      return "prerouting";
    case Hook::kInput:
      return "input";
    case Hook::kForward:
      return "forward";
    case Hook::kOutput:
      return "output";
    case Hook::kPostrouting:
      return "postrouting";
  }
  return "?";
}

const char* PolicyName(Policy p) { return p == Policy::kDrop ? "drop" : "accept"; }

const char* VerdictName(VerdictCode c) {
  switch (c) {
    case VerdictCode::kAccept:
      return "accept";
    case VerdictCode::kDrop:
      return "drop";
    case VerdictCode::kJump:
      return "jump";
    case VerdictCode::kGoto:
      return "goto";
    case VerdictCode::kReturn:
      return "return";
    case VerdictCode::kContinue:
      return "continue";
  }
  return "?";
}

uint32_t DataTypeLen(DataType t) {
  switch (t) {
    case DataType::kVerdict:
      return 0;
    case DataType::kIpv4Addr:
      return 4;
    case DataType::kIpv6Addr:
      return 16;
    case DataType::kInetProto:
      return 1;
    case DataType::kInetService:
      return 2;
    case DataType::kMark:
      return 4;
    case DataType::kIfname:
      return 16;
  }
  return 0;
}

const char* DataTypeName(DataType t) {
  switch (t) {
    case DataType::kVerdict:
      return "verdict";
    case DataType::kIpv4Addr:
      return "ipv4_addr";
    case DataType::kIpv6Addr:
      return "ipv6_addr";
    case DataType::kInetProto:
      return "inet_proto";
    case DataType::kInetService:
      return "inet_service";
    case DataType::kMark:
      return "mark";
    case DataType::kIfname:
      return "ifname";
  }
  return "?";
}

uint32_t SetKeyLen(const Set& s) {
  if (s.key.size() == 1) return DataTypeLen(s.key[0]);
  uint32_t len = 0;
  for (DataType t : s.key) len += (DataTypeLen(t) + 3) / 4 * 4;
  return len;
}

uint32_t SetKeyTypeId(const Set& s) {
  // nft's concat_subtype_add: TYPE_BITS (6) per field, first field highest.
  uint32_t id = 0;
  for (DataType t : s.key) id = (id << 6) | static_cast<uint32_t>(t);
  return id;
}

std::string ToString(const Expr& e) {
  return std::visit(
      Overloaded{
          [](const Meta& m) { return fmt::format("[ meta load {} => reg {} ]", m.key, m.dreg); },
          [](const Payload& p) {
            return fmt::format("[ payload load {}b @ {} header + {} => reg {} ]", p.len,
                               PayloadBaseName(p.base), p.offset, p.dreg);
          },
          [](const Cmp& c) {
            return fmt::format("[ cmp {} reg {} {} ]", CmpOpName(c.op), c.sreg, Hex(c.data));
          },
          [](const Bitwise& b) {
            return fmt::format("[ bitwise reg {} = ( reg {} & {} ) ^ {} ]", b.dreg, b.sreg,
                               Hex(b.mask), Hex(b.xor_value));
          },
          [](const Range& r) {
            return fmt::format("[ range {} reg {} {} {} ]", r.op == NFT_RANGE_EQ ? "eq" : "neq",
                               r.sreg, Hex(r.from), Hex(r.to));
          },
          [](const Verdict& v) {
            return v.chain.empty()
                       ? fmt::format("[ immediate reg 0 {} ]", VerdictName(v.code))
                       : fmt::format("[ immediate reg 0 {} -> {} ]", VerdictName(v.code), v.chain);
          },
          [](const ImmediateData& d) {
            return fmt::format("[ immediate reg {} {} ]", d.dreg, Hex(d.data));
          },
          [](const Byteorder& b) {
            return fmt::format("[ byteorder reg {} = {}(reg {}, {}, {}) ]", b.dreg,
                               b.op == NFT_BYTEORDER_HTON ? "hton" : "ntoh", b.sreg, b.size,
                               b.len);
          },
          [](const Counter&) { return std::string("[ counter ]"); },
          [](const ObjRef& o) { return fmt::format("[ objref type 1 name {} ]", o.name); },
          [](const Lookup& l) {
            std::string s = fmt::format("[ lookup reg {} set {}", l.sreg, l.set);
            if (l.dreg) s += fmt::format(" dreg {}", *l.dreg);
            if (l.invert) s += " 0x1";
            return s + " ]";
          },
          [](const Ct& c) {
            std::string s = fmt::format("[ ct load {} => reg {}", c.key, c.dreg);
            if (c.direction) s += fmt::format(" , dir {}", *c.direction);
            return s + " ]";
          },
          [](const Nat& n) {
            std::string s = fmt::format("[ nat {} {} addr_min reg {}",
                                        n.type == NatType::kSnat ? "snat" : "dnat",
                                        FamilyName(n.family), n.reg_addr_min);
            if (n.reg_proto_min) s += fmt::format(" proto_min reg {}", *n.reg_proto_min);
            if (n.flags) s += fmt::format(" flags 0x{:x}", n.flags);
            return s + " ]";
          },
          [](const Masq& m) {
            return m.flags ? fmt::format("[ masq flags 0x{:x} ]", m.flags)
                           : std::string("[ masq ]");
          },
          [](const Reject& r) { return fmt::format("[ reject type {} code {} ]", r.type, r.code); },
          [](const Unsupported& u) { return fmt::format("[ unsupported {} ]", u.what); },
      },
      e);
}

std::string ToString(const Rule& r) {
  std::string s = fmt::format("chain {}", r.chain);
  if (r.comment) s += fmt::format(" comment \"{}\"", *r.comment);
  for (const Expr& e : r.exprs) s += "\n  " + ToString(e);
  return s;
}

std::string ToString(const Chain& c) {
  if (!c.base) return fmt::format("chain {}", c.name);
  return fmt::format("chain {} {{ type {} hook {} priority {}; policy {}; }}", c.name,
                     ChainTypeName(c.base->type), HookName(c.base->hook), c.base->priority,
                     PolicyName(c.base->policy));
}

}  // namespace qnet::nft
