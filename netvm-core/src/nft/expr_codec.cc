#include "expr_codec.h"

#include <fmt/format.h>
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

ExprPtr Alloc(const char* name) { return ExprPtr(nftnl_expr_alloc(name)); }

void SetBytes(nftnl_expr* e, uint16_t attr, const Bytes& b) {
  nftnl_expr_set(e, attr, b.data(), static_cast<uint32_t>(b.size()));
}

Bytes GetBytes(const nftnl_expr* e, uint16_t attr) {
  uint32_t len = 0;
  const auto* p = static_cast<const uint8_t*>(nftnl_expr_get(e, attr, &len));
  return p ? Bytes(p, p + len) : Bytes{};
}

bool Has(const nftnl_expr* e, uint16_t attr) { return nftnl_expr_is_set(e, attr); }
uint32_t U32(const nftnl_expr* e, uint16_t attr) { return nftnl_expr_get_u32(e, attr); }

// One overload per expression kind; std::visit picks it.
struct Encoder {
  ExprPtr operator()(const Meta& m) const {
    ExprPtr e = Alloc("meta");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_KEY, m.key);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_DREG, m.dreg);
    return e;
  }
  ExprPtr operator()(const Payload& p) const {
    ExprPtr e = Alloc("payload");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_BASE, p.base);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_OFFSET, p.offset);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_LEN, p.len);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_DREG, p.dreg);
    return e;
  }
  ExprPtr operator()(const Cmp& c) const {
    ExprPtr e = Alloc("cmp");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_OP, c.op);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_SREG, c.sreg);
    SetBytes(e.get(), NFTNL_EXPR_CMP_DATA, c.data);
    return e;
  }
  ExprPtr operator()(const Bitwise& b) const {
    ExprPtr e = Alloc("bitwise");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_SREG, b.sreg);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_DREG, b.dreg);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_LEN, b.len);
    SetBytes(e.get(), NFTNL_EXPR_BITWISE_MASK, b.mask);
    SetBytes(e.get(), NFTNL_EXPR_BITWISE_XOR, b.xor_value);
    return e;
  }
  ExprPtr operator()(const Range& r) const {
    ExprPtr e = Alloc("range");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_RANGE_OP, r.op);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_RANGE_SREG, r.sreg);
    SetBytes(e.get(), NFTNL_EXPR_RANGE_FROM_DATA, r.from);
    SetBytes(e.get(), NFTNL_EXPR_RANGE_TO_DATA, r.to);
    return e;
  }
  ExprPtr operator()(const Verdict& v) const {
    ExprPtr e = Alloc("immediate");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_VERDICT,
                       static_cast<uint32_t>(VerdictToKernel(v.code)));
    if (!v.chain.empty()) nftnl_expr_set_str(e.get(), NFTNL_EXPR_IMM_CHAIN, v.chain.c_str());
    return e;
  }
  ExprPtr operator()(const ImmediateData& d) const {
    ExprPtr e = Alloc("immediate");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, d.dreg);
    SetBytes(e.get(), NFTNL_EXPR_IMM_DATA, d.data);
    return e;
  }
  ExprPtr operator()(const Counter&) const { return Alloc("counter"); }
  ExprPtr operator()(const ObjRef& o) const {
    ExprPtr e = Alloc("objref");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_OBJREF_IMM_TYPE, kObjectCounter);
    nftnl_expr_set_str(e.get(), NFTNL_EXPR_OBJREF_IMM_NAME, o.name.c_str());
    return e;
  }
  ExprPtr operator()(const Lookup& l) const {
    ExprPtr e = Alloc("lookup");
    nftnl_expr_set_str(e.get(), NFTNL_EXPR_LOOKUP_SET, l.set.c_str());
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_SREG, l.sreg);
    if (l.dreg) nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_DREG, *l.dreg);
    if (l.invert) nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
    return e;
  }
  ExprPtr operator()(const Ct& c) const {
    ExprPtr e = Alloc("ct");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CT_KEY, c.key);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CT_DREG, c.dreg);
    if (c.direction) nftnl_expr_set_u8(e.get(), NFTNL_EXPR_CT_DIR, *c.direction);
    return e;
  }
  ExprPtr operator()(const Nat& n) const {
    ExprPtr e = Alloc("nat");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_TYPE, static_cast<uint32_t>(n.type));
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_FAMILY, static_cast<uint32_t>(n.family));
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_REG_ADDR_MIN, n.reg_addr_min);
    if (n.reg_proto_min)
      nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_REG_PROTO_MIN, *n.reg_proto_min);
    if (n.flags) nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_FLAGS, n.flags);
    return e;
  }
  ExprPtr operator()(const Masq& m) const {
    ExprPtr e = Alloc("masq");
    if (m.flags) nftnl_expr_set_u32(e.get(), NFTNL_EXPR_MASQ_FLAGS, m.flags);
    return e;
  }
  ExprPtr operator()(const Reject& r) const {
    ExprPtr e = Alloc("reject");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_REJECT_TYPE, r.type);
    // The kernel ignores (and does not dump) a code for TCP resets.
    if (r.type != NFT_REJECT_TCP_RST) nftnl_expr_set_u8(e.get(), NFTNL_EXPR_REJECT_CODE, r.code);
    return e;
  }
  ExprPtr operator()(const Unsupported&) const { return ExprPtr(); }
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

constexpr std::array<DecodeRow, 13> kDecoders{{
    {"meta", DecodeMeta},
    {"payload", DecodePayload},
    {"cmp", DecodeCmp},
    {"bitwise", DecodeBitwise},
    {"range", DecodeRange},
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

ExprPtr EncodeExpr(const Expr& e) { return std::visit(Encoder{}, e); }

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
