#include "qnet/nft/ruleset.h"

#include <fmt/format.h>

#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "overloaded.h"

namespace qnet::nft {
namespace {

using internal::Overloaded;

std::string Reg(uint32_t r) {
  if (r >= NFT_REG32_00) return fmt::format("reg32 {:02}", r - NFT_REG32_00);
  return fmt::format("reg {}", r);
}

std::string KeyName(std::span<const std::pair<uint32_t, std::string_view>> names, uint32_t key) {
  for (const auto& [k, name] : names)
    if (k == key) return std::string(name);
  return fmt::format("key {}", key);
}

constexpr std::pair<uint32_t, std::string_view> kMetaKeys[] = {
    {NFT_META_LEN, "len"},         {NFT_META_PROTOCOL, "protocol"}, {NFT_META_MARK, "mark"},
    {NFT_META_IIF, "iif"},         {NFT_META_OIF, "oif"},           {NFT_META_IIFNAME, "iifname"},
    {NFT_META_OIFNAME, "oifname"}, {NFT_META_NFPROTO, "nfproto"},   {NFT_META_L4PROTO, "l4proto"},
    {NFT_META_SKUID, "skuid"},     {NFT_META_SKGID, "skgid"},       {NFT_META_TIME_NS, "time"},
};
constexpr std::pair<uint32_t, std::string_view> kCtKeys[] = {
    {NFT_CT_STATE, "state"}, {NFT_CT_DST_IP, "dst_ip"}, {NFT_CT_DST_IP6, "dst_ip6"}};

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

std::string HexBytes(const Bytes& b) {
  std::string out = "0x";
  for (size_t i = 0; i < b.size(); ++i) {
    if (i > 0 && i % 4 == 0) out += " 0x";
    out += fmt::format("{:02x}", b[i]);
  }
  return out;
}

std::string ToString(const Verdict& v) {
  if (v.code == VerdictCode::kJump || v.code == VerdictCode::kGoto)
    return fmt::format("{} {}", VerdictName(v.code), v.chain);
  return VerdictName(v.code);
}

std::string ToString(const Expr& e) {
  return std::visit(
      Overloaded{
          [](const Meta& m) {
            return fmt::format("meta load {} => {}", KeyName(kMetaKeys, m.key), Reg(m.dreg));
          },
          [](const Payload& p) {
            return fmt::format("payload load {}b @ {} header + {} => {}", p.len,
                               PayloadBaseName(p.base), p.offset, Reg(p.dreg));
          },
          [](const Cmp& c) {
            return fmt::format("cmp {} {} {}", CmpOpName(c.op), Reg(c.sreg), HexBytes(c.data));
          },
          [](const Bitwise& b) {
            return fmt::format("bitwise {} = ({} & {}) ^ {}", Reg(b.dreg), Reg(b.sreg),
                               HexBytes(b.mask), HexBytes(b.xor_value));
          },
          [](const Range& r) {
            return fmt::format("range {} {} {} {}", r.op == NFT_RANGE_EQ ? "eq" : "neq",
                               Reg(r.sreg), HexBytes(r.from), HexBytes(r.to));
          },
          [](const Verdict& v) { return "immediate reg 0 " + ToString(v); },
          [](const ImmediateData& d) {
            return fmt::format("immediate {} {}", Reg(d.dreg), HexBytes(d.data));
          },
          [](const Byteorder& b) {
            return fmt::format("byteorder {} = {}({}, {}, {})", Reg(b.dreg),
                               b.op == NFT_BYTEORDER_HTON ? "hton" : "ntoh", Reg(b.sreg), b.size,
                               b.len);
          },
          [](const Counter&) { return std::string("counter"); },
          [](const ObjRef& o) { return "objref counter " + o.name; },
          [](const Lookup& l) {
            std::string s = fmt::format("lookup {} set {}", Reg(l.sreg), l.set);
            if (l.dreg) s += " dreg " + Reg(*l.dreg);
            if (l.invert) s += " inverted";
            return s;
          },
          [](const Ct& c) {
            std::string dir;
            if (c.direction) dir = *c.direction == 0 ? " original" : " reply";
            return fmt::format("ct load {}{} => {}", KeyName(kCtKeys, c.key), dir, Reg(c.dreg));
          },
          [](const Nat& n) {
            std::string s =
                fmt::format("nat {} {} addr_min {}", n.type == NatType::kSnat ? "snat" : "dnat",
                            FamilyName(n.family), Reg(n.reg_addr_min));
            if (n.reg_proto_min) s += " proto_min " + Reg(*n.reg_proto_min);
            if (n.flags) s += fmt::format(" flags 0x{:x}", n.flags);
            return s;
          },
          [](const Masq& m) {
            return m.flags ? fmt::format("masq flags 0x{:x}", m.flags) : std::string("masq");
          },
          [](const Reject& r) { return fmt::format("reject type {} code {}", r.type, r.code); },
          [](const Unsupported& u) { return "UNSUPPORTED " + u.what; },
      },
      e);
}

std::string ToString(const Rule& r) {
  std::string s = fmt::format("chain {}", r.chain);
  if (r.comment) s += fmt::format(" comment \"{}\"", *r.comment);
  for (const Expr& e : r.exprs) s += "\n  [ " + ToString(e) + " ]";
  return s;
}

std::string ToString(const Chain& c) {
  if (!c.base) return fmt::format("chain {}", c.name);
  return fmt::format("chain {} {{ type {} hook {} priority {}; policy {}; }}", c.name,
                     ChainTypeName(c.base->type), HookName(c.base->hook), c.base->priority,
                     PolicyName(c.base->policy));
}

}  // namespace qnet::nft
