#include "expr_codec.h"

#include <endian.h>
#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_nat.h>

#include <array>
#include <cstring>
#include <string_view>

namespace qnet::nft::internal {
namespace {

// NFT_OBJECT_COUNTER is the only object type rules reference here.
constexpr uint32_t kObjectCounter = NFT_OBJECT_COUNTER;
// Flags the kernel derives from the registers given; never part of Nat::flags.
constexpr uint32_t kNatImpliedFlags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;

Bytes GetBytes(const nftnl_expr* e, uint16_t attr) {
  uint32_t len = 0;
  const auto* p = static_cast<const uint8_t*>(nftnl_expr_get(e, attr, &len));
  return p ? Bytes(p, p + len) : Bytes{};
}

bool Has(const nftnl_expr* e, uint16_t attr) { return nftnl_expr_is_set(e, attr); }
uint32_t U32(const nftnl_expr* e, uint16_t attr) { return nftnl_expr_get_u32(e, attr); }

// ---- Encoding: the kernel's attributes written straight into the message
// (what libnftnl's expression builders write, without an allocated object
// per expression and a lookup of its ops by name: a ruleset has tens of
// thousands of expressions). The codec tests parse the result back with
// libnftnl and compare. ----

void PutU32(nlmsghdr* nlh, uint16_t type, uint32_t v) { mnl_attr_put_u32(nlh, type, htobe32(v)); }

// A value in a data nest (NFTA_DATA_VALUE), as cmp, bitwise, range and
// immediate carry them.
void PutData(nlmsghdr* nlh, uint16_t type, const Bytes& b) {
  nlattr* nest = mnl_attr_nest_start(nlh, type);
  mnl_attr_put(nlh, NFTA_DATA_VALUE, b.size(), b.data());
  mnl_attr_nest_end(nlh, nest);
}

// One overload per expression kind: its kernel name and its attributes.
struct Writer {
  nlmsghdr* nlh;

  const char* operator()(const Meta& m) const {
    PutU32(nlh, NFTA_META_KEY, m.key);
    PutU32(nlh, NFTA_META_DREG, m.dreg);
    return "meta";
  }
  const char* operator()(const Payload& p) const {
    PutU32(nlh, NFTA_PAYLOAD_DREG, p.dreg);
    PutU32(nlh, NFTA_PAYLOAD_BASE, p.base);
    PutU32(nlh, NFTA_PAYLOAD_OFFSET, p.offset);
    PutU32(nlh, NFTA_PAYLOAD_LEN, p.len);
    return "payload";
  }
  const char* operator()(const Cmp& c) const {
    PutU32(nlh, NFTA_CMP_SREG, c.sreg);
    PutU32(nlh, NFTA_CMP_OP, c.op);
    PutData(nlh, NFTA_CMP_DATA, c.data);
    return "cmp";
  }
  const char* operator()(const Bitwise& b) const {
    PutU32(nlh, NFTA_BITWISE_SREG, b.sreg);
    PutU32(nlh, NFTA_BITWISE_DREG, b.dreg);
    PutU32(nlh, NFTA_BITWISE_LEN, b.len);
    PutData(nlh, NFTA_BITWISE_MASK, b.mask);
    PutData(nlh, NFTA_BITWISE_XOR, b.xor_value);
    return "bitwise";
  }
  const char* operator()(const Range& r) const {
    PutU32(nlh, NFTA_RANGE_SREG, r.sreg);
    PutU32(nlh, NFTA_RANGE_OP, r.op);
    PutData(nlh, NFTA_RANGE_FROM_DATA, r.from);
    PutData(nlh, NFTA_RANGE_TO_DATA, r.to);
    return "range";
  }
  const char* operator()(const Byteorder& b) const {
    PutU32(nlh, NFTA_BYTEORDER_SREG, b.sreg);
    PutU32(nlh, NFTA_BYTEORDER_DREG, b.dreg);
    PutU32(nlh, NFTA_BYTEORDER_OP, b.op);
    PutU32(nlh, NFTA_BYTEORDER_LEN, b.len);
    PutU32(nlh, NFTA_BYTEORDER_SIZE, b.size);
    return "byteorder";
  }
  const char* operator()(const Verdict& v) const {
    PutU32(nlh, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
    nlattr* data = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
    nlattr* verdict = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
    PutU32(nlh, NFTA_VERDICT_CODE, static_cast<uint32_t>(VerdictToKernel(v.code)));
    if (!v.chain.empty()) mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, v.chain.c_str());
    mnl_attr_nest_end(nlh, verdict);
    mnl_attr_nest_end(nlh, data);
    return "immediate";
  }
  const char* operator()(const ImmediateData& d) const {
    PutU32(nlh, NFTA_IMMEDIATE_DREG, d.dreg);
    PutData(nlh, NFTA_IMMEDIATE_DATA, d.data);
    return "immediate";
  }
  const char* operator()(const Counter&) const { return "counter"; }
  const char* operator()(const ObjRef& o) const {
    PutU32(nlh, NFTA_OBJREF_IMM_TYPE, kObjectCounter);
    mnl_attr_put_strz(nlh, NFTA_OBJREF_IMM_NAME, o.name.c_str());
    return "objref";
  }
  const char* operator()(const Lookup& l) const {
    PutU32(nlh, NFTA_LOOKUP_SREG, l.sreg);
    if (l.dreg) PutU32(nlh, NFTA_LOOKUP_DREG, *l.dreg);
    mnl_attr_put_strz(nlh, NFTA_LOOKUP_SET, l.set.c_str());
    if (l.invert) PutU32(nlh, NFTA_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
    return "lookup";
  }
  const char* operator()(const Ct& c) const {
    PutU32(nlh, NFTA_CT_KEY, c.key);
    PutU32(nlh, NFTA_CT_DREG, c.dreg);
    if (c.direction) mnl_attr_put_u8(nlh, NFTA_CT_DIRECTION, *c.direction);
    return "ct";
  }
  const char* operator()(const Nat& n) const {
    PutU32(nlh, NFTA_NAT_TYPE, static_cast<uint32_t>(n.type));
    PutU32(nlh, NFTA_NAT_FAMILY, static_cast<uint32_t>(n.family));
    PutU32(nlh, NFTA_NAT_REG_ADDR_MIN, n.reg_addr_min);
    if (n.reg_proto_min) PutU32(nlh, NFTA_NAT_REG_PROTO_MIN, *n.reg_proto_min);
    if (n.flags) PutU32(nlh, NFTA_NAT_FLAGS, n.flags);
    return "nat";
  }
  const char* operator()(const Masq& m) const {
    if (m.flags) PutU32(nlh, NFTA_MASQ_FLAGS, m.flags);
    return "masq";
  }
  const char* operator()(const Reject& r) const {
    PutU32(nlh, NFTA_REJECT_TYPE, r.type);
    // The kernel ignores (and does not dump) a code for TCP resets.
    if (r.type != NFT_REJECT_TCP_RST) mnl_attr_put_u8(nlh, NFTA_REJECT_ICMP_CODE, r.code);
    return "reject";
  }
  const char* operator()(const Unsupported&) const { return nullptr; }
};

// ---- Decoding, one row per kernel expression name ----

Expr Unknown(std::string_view name, std::string_view why) {
  return Unsupported{why.empty() ? std::string(name) : fmt::format("{} ({})", name, why)};
}

Expr DecodeMeta(const nftnl_expr* e) {
  if (!Has(e, NFTNL_EXPR_META_DREG)) return Unknown("meta", "set");
  return Meta{U32(e, NFTNL_EXPR_META_KEY), U32(e, NFTNL_EXPR_META_DREG)};
}

Expr DecodePayload(const nftnl_expr* e) {
  if (!Has(e, NFTNL_EXPR_PAYLOAD_DREG)) return Unknown("payload", "set");
  return Payload{U32(e, NFTNL_EXPR_PAYLOAD_BASE), U32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
                 U32(e, NFTNL_EXPR_PAYLOAD_LEN), U32(e, NFTNL_EXPR_PAYLOAD_DREG)};
}

Expr DecodeCmp(const nftnl_expr* e) {
  return Cmp{U32(e, NFTNL_EXPR_CMP_OP), U32(e, NFTNL_EXPR_CMP_SREG),
             GetBytes(e, NFTNL_EXPR_CMP_DATA)};
}

Expr DecodeBitwise(const nftnl_expr* e) {
  if (Has(e, NFTNL_EXPR_BITWISE_OP) && U32(e, NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL)
    return Unknown("bitwise", "shift");
  return Bitwise{U32(e, NFTNL_EXPR_BITWISE_SREG), U32(e, NFTNL_EXPR_BITWISE_DREG),
                 U32(e, NFTNL_EXPR_BITWISE_LEN), GetBytes(e, NFTNL_EXPR_BITWISE_MASK),
                 GetBytes(e, NFTNL_EXPR_BITWISE_XOR)};
}

Expr DecodeRange(const nftnl_expr* e) {
  return Range{U32(e, NFTNL_EXPR_RANGE_OP), U32(e, NFTNL_EXPR_RANGE_SREG),
               GetBytes(e, NFTNL_EXPR_RANGE_FROM_DATA), GetBytes(e, NFTNL_EXPR_RANGE_TO_DATA)};
}

Expr DecodeByteorder(const nftnl_expr* e) {
  return Byteorder{U32(e, NFTNL_EXPR_BYTEORDER_SREG), U32(e, NFTNL_EXPR_BYTEORDER_DREG),
                   U32(e, NFTNL_EXPR_BYTEORDER_OP), U32(e, NFTNL_EXPR_BYTEORDER_LEN),
                   U32(e, NFTNL_EXPR_BYTEORDER_SIZE)};
}

Expr DecodeImmediate(const nftnl_expr* e) {
  const uint32_t dreg = U32(e, NFTNL_EXPR_IMM_DREG);
  if (dreg != NFT_REG_VERDICT) return ImmediateData{dreg, GetBytes(e, NFTNL_EXPR_IMM_DATA)};
  VerdictCode code;
  if (!VerdictFromKernel(static_cast<int>(U32(e, NFTNL_EXPR_IMM_VERDICT)), &code))
    return Unknown("immediate", "verdict");
  Verdict v{code, {}};
  if (Has(e, NFTNL_EXPR_IMM_CHAIN)) v.chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
  return v;
}

Expr DecodeCounter(const nftnl_expr* e) {
  return Counter{nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS),
                 nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES)};
}

Expr DecodeObjRef(const nftnl_expr* e) {
  if (!Has(e, NFTNL_EXPR_OBJREF_IMM_NAME) || U32(e, NFTNL_EXPR_OBJREF_IMM_TYPE) != kObjectCounter)
    return Unknown("objref", "not a named counter");
  return ObjRef{nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME)};
}

Expr DecodeLookup(const nftnl_expr* e) {
  Lookup l{nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET), U32(e, NFTNL_EXPR_LOOKUP_SREG),
           std::nullopt, false};
  if (Has(e, NFTNL_EXPR_LOOKUP_DREG)) l.dreg = U32(e, NFTNL_EXPR_LOOKUP_DREG);
  if (Has(e, NFTNL_EXPR_LOOKUP_FLAGS))
    l.invert = (U32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV) != 0;
  return l;
}

Expr DecodeCt(const nftnl_expr* e) {
  if (!Has(e, NFTNL_EXPR_CT_DREG)) return Unknown("ct", "set");
  Ct c{U32(e, NFTNL_EXPR_CT_KEY), U32(e, NFTNL_EXPR_CT_DREG), std::nullopt};
  if (Has(e, NFTNL_EXPR_CT_DIR)) c.direction = nftnl_expr_get_u8(e, NFTNL_EXPR_CT_DIR);
  return c;
}

// The kernel echoes a max register equal to the min one when none was given.
bool SameOrAbsent(const nftnl_expr* e, uint16_t max_attr, uint32_t min) {
  return !Has(e, max_attr) || U32(e, max_attr) == min;
}

Expr DecodeNat(const nftnl_expr* e) {
  if (!Has(e, NFTNL_EXPR_NAT_REG_ADDR_MIN)) return Unknown("nat", "without address");
  Nat n{static_cast<NatType>(U32(e, NFTNL_EXPR_NAT_TYPE)),
        static_cast<Family>(U32(e, NFTNL_EXPR_NAT_FAMILY)), U32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN),
        std::nullopt, 0};
  if (!SameOrAbsent(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, n.reg_addr_min))
    return Unknown("nat", "address range");
  if (Has(e, NFTNL_EXPR_NAT_REG_PROTO_MIN)) {
    n.reg_proto_min = U32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN);
    if (!SameOrAbsent(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, *n.reg_proto_min))
      return Unknown("nat", "port range");
  }
  if (Has(e, NFTNL_EXPR_NAT_FLAGS)) n.flags = U32(e, NFTNL_EXPR_NAT_FLAGS) & ~kNatImpliedFlags;
  return n;
}

Expr DecodeMasq(const nftnl_expr* e) {
  if (Has(e, NFTNL_EXPR_MASQ_REG_PROTO_MIN)) return Unknown("masq", "to ports");
  return Masq{Has(e, NFTNL_EXPR_MASQ_FLAGS) ? U32(e, NFTNL_EXPR_MASQ_FLAGS) : 0};
}

Expr DecodeReject(const nftnl_expr* e) {
  Reject r{U32(e, NFTNL_EXPR_REJECT_TYPE), 0};
  if (r.type != NFT_REJECT_TCP_RST && Has(e, NFTNL_EXPR_REJECT_CODE))
    r.code = nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE);
  return r;
}

struct DecodeRow {
  std::string_view name;
  Expr (*decode)(const nftnl_expr*);
};

constexpr std::array<DecodeRow, 14> kDecoders{{
    {"meta", DecodeMeta},
    {"payload", DecodePayload},
    {"cmp", DecodeCmp},
    {"bitwise", DecodeBitwise},
    {"range", DecodeRange},
    {"byteorder", DecodeByteorder},
    {"immediate", DecodeImmediate},
    {"counter", DecodeCounter},
    {"objref", DecodeObjRef},
    {"lookup", DecodeLookup},
    {"ct", DecodeCt},
    {"nat", DecodeNat},
    {"masq", DecodeMasq},
    {"reject", DecodeReject},
}};

}  // namespace

bool PutExpr(nlmsghdr* nlh, const Expr& e) {
  if (std::holds_alternative<Unsupported>(e)) return false;
  nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
  // The kernel (and libnftnl's parser) read attributes by type, so the name
  // may follow the data, which is when the kind is known.
  nlattr* data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
  const char* kind = std::visit(Writer{nlh}, e);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, kind);
  mnl_attr_nest_end(nlh, elem);
  return true;
}

Expr DecodeExpr(const nftnl_expr* e) {
  const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  if (name == nullptr) return Unknown("expression", "without name");
  for (const DecodeRow& row : kDecoders)
    if (row.name == name) return row.decode(e);
  return Unknown(name, "");
}

int VerdictToKernel(VerdictCode c) {
  switch (c) {
    case VerdictCode::kAccept:
      return NF_ACCEPT;
    case VerdictCode::kDrop:
      return NF_DROP;
    case VerdictCode::kJump:
      return NFT_JUMP;
    case VerdictCode::kGoto:
      return NFT_GOTO;
    case VerdictCode::kReturn:
      return NFT_RETURN;
    case VerdictCode::kContinue:
      return NFT_CONTINUE;
  }
  return NF_DROP;
}

bool VerdictFromKernel(int v, VerdictCode* out) {
  switch (v) {
    case NF_ACCEPT:
      *out = VerdictCode::kAccept;
      return true;
    case NF_DROP:
      *out = VerdictCode::kDrop;
      return true;
    case NFT_JUMP:
      *out = VerdictCode::kJump;
      return true;
    case NFT_GOTO:
      *out = VerdictCode::kGoto;
      return true;
    case NFT_RETURN:
      *out = VerdictCode::kReturn;
      return true;
    case NFT_CONTINUE:
      *out = VerdictCode::kContinue;
      return true;
  }
  return false;
}

}  // namespace qnet::nft::internal
