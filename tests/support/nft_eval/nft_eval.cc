#include "qnet/testing/nft_eval.h"

#include <gtest/gtest.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace qnet::testing {
namespace {

constexpr uint8_t kIcmp = 1;
constexpr uint8_t kIcmpv6 = 58;

nft::Bytes HostU32(uint32_t v) {
  nft::Bytes b(4);
  std::memcpy(b.data(), &v, 4);
  return b;
}

IpAddr AddrFrom(const nft::Bytes& b, bool v4) {
  if (v4) return IpAddr::V4(b[0], b[1], b[2], b[3]);
  std::array<uint8_t, 16> x{};
  std::copy(b.begin(), b.begin() + 16, x.begin());
  return IpAddr::V6(x);
}

bool CmpHolds(uint32_t op, int d) {
  switch (op) {
    case NFT_CMP_EQ:
      return d == 0;
    case NFT_CMP_NEQ:
      return d != 0;
    case NFT_CMP_LT:
      return d < 0;
    case NFT_CMP_LTE:
      return d <= 0;
    case NFT_CMP_GT:
      return d > 0;
    case NFT_CMP_GTE:
      return d >= 0;
  }
  ADD_FAILURE() << "cmp op " << op;
  return false;
}

}  // namespace

// The kernel's register file: NFT_REG_1..4 are 16 bytes each and overlay
// NFT_REG32_00..15 (4 bytes each), so a concatenation loaded into
// consecutive 32-bit registers is one key read from its first.
struct NftEvaluator::Regs {
  std::array<uint8_t, 64> bytes{};
  static size_t Offset(uint32_t reg) {
    return reg >= NFT_REG32_00 ? (reg - NFT_REG32_00) * 4 : (reg - NFT_REG_1) * 16;
  }
  void Store(uint32_t reg, const nft::Bytes& v) {
    const size_t at = Offset(reg);
    // A load of a length that is not a multiple of 4 zeroes the rest of
    // its last 32-bit register, as the kernel does.
    std::fill(bytes.begin() + at, bytes.begin() + at + (v.size() + 3) / 4 * 4, 0);
    std::copy(v.begin(), v.end(), bytes.begin() + at);
  }
  nft::Bytes Load(uint32_t reg, size_t len) const {
    const size_t at = Offset(reg);
    return nft::Bytes(bytes.begin() + at, bytes.begin() + at + len);
  }
};

void NftEvaluator::AddChain(const std::string& name) { chains_[name]; }

void NftEvaluator::AddRules(const std::vector<nft::Rule>& rules) {
  for (const nft::Rule& r : rules) {
    EXPECT_TRUE(chains_.contains(r.chain)) << "rule in undeclared chain " << r.chain;
    chains_[r.chain].push_back(r);
  }
}

void NftEvaluator::AddSet(const std::string& name) { sets_[name]; }

void NftEvaluator::AddElements(const std::string& set,
                               const std::vector<nft::SetElement>& elements) {
  EXPECT_TRUE(sets_.contains(set)) << "elements of undeclared set " << set;
  auto& to = sets_[set];
  to.insert(to.end(), elements.begin(), elements.end());
}

NftResult NftEvaluator::Run(const std::string& chain, const NftPacket& packet) {
  packet_ = packet;
  result_ = {};
  std::optional<NftResult> r = RunChain(chain, 0);
  if (r) return *r;
  NftResult none;
  none.counters = result_.counters;
  return none;
}

nft::Bytes NftEvaluator::MetaValue(uint32_t key) const {
  switch (key) {
    case NFT_META_NFPROTO:
      return {static_cast<uint8_t>(packet_.v6 ? NFPROTO_IPV6 : NFPROTO_IPV4)};
    case NFT_META_L4PROTO:
      return {packet_.l4proto};
    case NFT_META_IIFNAME:
      return nft::IfnameKey(packet_.iifname);
    case NFT_META_OIFNAME:
      return nft::IfnameKey(packet_.oifname);
    case NFT_META_MARK:
      return HostU32(packet_.mark);
    case NFT_META_SKUID:
      return HostU32(packet_.skuid);
    case NFT_META_TIME_NS: {
      nft::Bytes b(8);
      std::memcpy(b.data(), &packet_.time_ns, 8);
      return b;
    }
  }
  ADD_FAILURE() << "meta key " << key << " not modelled";
  return {};
}

nft::Bytes NftEvaluator::Header(uint32_t base) const {
  if (base == NFT_PAYLOAD_TRANSPORT_HEADER) {
    nft::Bytes h(20, 0);
    if (packet_.l4proto == kIcmp || packet_.l4proto == kIcmpv6) {
      h[0] = packet_.icmp_type;
    } else {
      h[0] = static_cast<uint8_t>(packet_.sport >> 8);
      h[1] = static_cast<uint8_t>(packet_.sport);
      h[2] = static_cast<uint8_t>(packet_.dport >> 8);
      h[3] = static_cast<uint8_t>(packet_.dport);
      h[13] = packet_.tcp_flags;
    }
    return h;
  }
  if (base != NFT_PAYLOAD_NETWORK_HEADER) ADD_FAILURE() << "payload base " << base;
  const bool v4 = !packet_.v6;
  nft::Bytes h(v4 ? 20 : 40, 0);
  for (const auto& [addr, at] :
       {std::pair{packet_.saddr, v4 ? 12 : 8}, std::pair{packet_.daddr, v4 ? 16 : 24}}) {
    if (addr.is_v4() == v4 && addr.size() > 0) std::memcpy(&h[at], addr.data(), addr.size());
  }
  return h;
}

bool NftEvaluator::Lookup(const nft::Lookup& l, const Regs& regs, nft::Verdict* verdict) const {
  auto it = sets_.find(l.set);
  if (it == sets_.end()) {
    ADD_FAILURE() << "lookup in undeclared set " << l.set;
    return false;
  }
  for (const nft::SetElement& e : it->second) {
    if (e.key == regs.Load(l.sreg, e.key.size())) {
      if (e.verdict) *verdict = *e.verdict;
      return true;
    }
  }
  return false;
}

// kNext: no match, go on with the next rule. kMatch: `verdict` holds the
// rule's verdict (kContinue when it has none). kEnd: a statement ended
// evaluation (reject, dnat, masquerade): result_ says how.
NftEvaluator::Step NftEvaluator::EvalRule(const nft::Rule& rule, Regs& regs,
                                          nft::Verdict& verdict) {
  result_ = {};
  for (const nft::Expr& e : rule.exprs) {
    if (const auto* m = std::get_if<nft::Meta>(&e)) {
      regs.Store(m->dreg, MetaValue(m->key));
    } else if (const auto* p = std::get_if<nft::Payload>(&e)) {
      const nft::Bytes h = Header(p->base);
      if (p->offset + p->len > h.size()) return Step::kNext;
      regs.Store(p->dreg, nft::Bytes(h.begin() + p->offset, h.begin() + p->offset + p->len));
    } else if (const auto* c = std::get_if<nft::Cmp>(&e)) {
      // As the kernel: memcmp over the data's length.
      const nft::Bytes v = regs.Load(c->sreg, c->data.size());
      if (!CmpHolds(c->op, std::memcmp(v.data(), c->data.data(), v.size()))) return Step::kNext;
    } else if (const auto* bo = std::get_if<nft::Byteorder>(&e)) {
      // Host order here is little endian: hton and ntoh both reverse each
      // `size`-byte unit.
      nft::Bytes v = regs.Load(bo->sreg, bo->len);
      for (size_t at = 0; at + bo->size <= v.size(); at += bo->size)
        std::reverse(v.begin() + at, v.begin() + at + bo->size);
      regs.Store(bo->dreg, v);
    } else if (const auto* b = std::get_if<nft::Bitwise>(&e)) {
      nft::Bytes v = regs.Load(b->sreg, b->len);
      for (size_t i = 0; i < b->len; ++i) v[i] = (v[i] & b->mask[i]) ^ b->xor_value[i];
      regs.Store(b->dreg, v);
    } else if (const auto* r = std::get_if<nft::Range>(&e)) {
      const nft::Bytes v = regs.Load(r->sreg, r->from.size());
      const bool in = std::memcmp(v.data(), r->from.data(), v.size()) >= 0 &&
                      std::memcmp(v.data(), r->to.data(), v.size()) <= 0;
      if ((r->op == NFT_RANGE_EQ) != in) return Step::kNext;
    } else if (const auto* l = std::get_if<nft::Lookup>(&e)) {
      nft::Verdict v;
      const bool found = Lookup(*l, regs, &v);
      if (l->dreg) {  // a verdict map
        if (!found) return Step::kNext;
        verdict = v;
        return Step::kMatch;
      }
      if (found == l->invert) return Step::kNext;
    } else if (const auto* ct = std::get_if<nft::Ct>(&e)) {
      if (ct->key == NFT_CT_STATE) {
        regs.Store(ct->dreg, HostU32(packet_.ct_state));
      } else if (ct->key == NFT_CT_DST_IP) {
        const IpAddr orig = packet_.ct_original_daddr.value_or(packet_.daddr);
        if (!orig.is_v4()) return Step::kNext;  // NFT_BREAK
        regs.Store(ct->dreg, nft::AddrKey(orig));
      } else {
        ADD_FAILURE() << "ct key " << ct->key << " not modelled";
        return Step::kNext;
      }
    } else if (const auto* im = std::get_if<nft::ImmediateData>(&e)) {
      regs.Store(im->dreg, im->data);
    } else if (const auto* nat = std::get_if<nft::Nat>(&e)) {
      const bool v4 = nat->family == nft::Family::kIp;
      result_.outcome = NftOutcome::kDnat;
      result_.dnat_addr = AddrFrom(regs.Load(nat->reg_addr_min, v4 ? 4 : 16), v4);
      if (nat->reg_proto_min) {
        const nft::Bytes port = regs.Load(*nat->reg_proto_min, 2);
        result_.dnat_port = static_cast<uint16_t>(port[0] << 8 | port[1]);
      }
      return Step::kEnd;
    } else if (std::holds_alternative<nft::Masq>(e)) {
      result_.outcome = NftOutcome::kMasquerade;
      return Step::kEnd;
    } else if (const auto* rj = std::get_if<nft::Reject>(&e)) {
      result_.outcome = NftOutcome::kReject;
      result_.reject = *rj;
      return Step::kEnd;
    } else if (const auto* o = std::get_if<nft::ObjRef>(&e)) {
      result_.counters.push_back(o->name);
    } else if (const auto* v = std::get_if<nft::Verdict>(&e)) {
      verdict = *v;
      return Step::kMatch;
    } else if (!std::holds_alternative<nft::Counter>(e)) {
      ADD_FAILURE() << "expression not modelled in " << rule.chain << ": " << nft::ToString(e);
      return Step::kNext;
    }
  }
  verdict = nft::Verdict{nft::VerdictCode::kContinue, {}};
  return Step::kMatch;
}

// nullopt: the chain returned (or ran out) to its caller.
std::optional<NftResult> NftEvaluator::RunChain(const std::string& name, int depth) {
  if (depth > 16 || !chains_.contains(name)) {
    ADD_FAILURE() << "bad chain " << name;
    return NftResult{};
  }
  for (const nft::Rule& rule : chains_.at(name)) {
    Regs regs;
    nft::Verdict v;
    switch (EvalRule(rule, regs, v)) {
      case Step::kNext:
        continue;
      case Step::kEnd:
        return result_;
      case Step::kMatch:
        break;
    }
    switch (v.code) {
      case nft::VerdictCode::kContinue:
        continue;
      case nft::VerdictCode::kAccept:
        result_.outcome = NftOutcome::kAccept;
        return result_;
      case nft::VerdictCode::kDrop:
        result_.outcome = NftOutcome::kDrop;
        return result_;
      case nft::VerdictCode::kReturn:
        return std::nullopt;
      case nft::VerdictCode::kJump: {
        std::optional<NftResult> o = RunChain(v.chain, depth + 1);
        if (o) return o;
        continue;
      }
      case nft::VerdictCode::kGoto:
        return RunChain(v.chain, depth + 1);
    }
  }
  result_ = {};
  return std::nullopt;
}

}  // namespace qnet::testing
