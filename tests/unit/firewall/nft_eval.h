// A small interpreter of the nft values the firewall compiler emits, for
// tests: runs a packet through firewall-forward as the kernel would (the
// expressions the compiler uses, registers, set lookups, verdict maps,
// jump/goto/return) and reports the verdict. Test-only, header-only.
#pragma once

#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "qnet/firewall/compiler.h"
#include "qnet/firewall/nft_names.h"
#include "qnet/nft/match.h"

namespace qnet::firewall::testing {

struct Packet {
  std::string iifname = "vif12.0";
  IpAddr saddr;
  IpAddr daddr;
  std::optional<IpAddr> ct_original_daddr;  // before DNAT; defaults to daddr
  uint8_t l4proto = 6;                      // tcp
  uint16_t dport = 80;
  uint8_t icmp_type = 0;
  uint64_t time_ns = 0;
};

enum class Outcome { kAccept, kDrop, kRejectTcpReset, kRejectIcmp, kNoVerdict };

inline const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kAccept:
      return "accept";
    case Outcome::kDrop:
      return "drop";
    case Outcome::kRejectTcpReset:
      return "reject-tcp-reset";
    case Outcome::kRejectIcmp:
      return "reject-icmp";
    case Outcome::kNoVerdict:
      return "no-verdict";
  }
  return "?";
}

class Evaluator {
 public:
  explicit Evaluator(const CompiledFirewall& fw) {
    Load(fw.rules, fw.chains);
    for (const nft::Set& s : fw.sets) sets_[s.name];
    for (const ClientRules& c : fw.clients) {
      Load(c.rules, c.chains);
      for (const nft::SetContents& s : c.sets) {
        sets_[s.set.name];
        for (const nft::SetElement& e : s.elements) sets_[s.set.name].push_back(e);
      }
      for (const SetEntries& m : c.map_entries) {
        for (const nft::SetElement& e : m.elements) sets_[m.set].push_back(e);
      }
    }
  }

  // Runs the packet through firewall-forward. kNoVerdict: it returned to
  // the base chain.
  Outcome Run(const Packet& p) {
    packet_ = p;
    return RunChain(std::string(kForwardChain), 0).value_or(Outcome::kNoVerdict);
  }

 private:
  // The kernel's register file: NFT_REG_1..4 are 16 bytes each and overlay
  // NFT_REG32_00..15 (4 bytes each), so a concatenation loaded into
  // consecutive 32-bit registers is one key read from its first.
  struct Regs {
    std::array<uint8_t, 64> bytes{};
    static size_t Offset(uint32_t reg) {
      return reg >= NFT_REG32_00 ? (reg - NFT_REG32_00) * 4 : (reg - NFT_REG_1) * 16;
    }
    void Store(uint32_t reg, const nft::Bytes& v) {
      const size_t at = Offset(reg);
      // A load of a length that is not a multiple of 4 zeroes the rest of
      // its last 32-bit register, as the kernel does.
      const size_t padded = (v.size() + 3) / 4 * 4;
      std::fill(bytes.begin() + at, bytes.begin() + at + padded, 0);
      std::copy(v.begin(), v.end(), bytes.begin() + at);
    }
    nft::Bytes Load(uint32_t reg, size_t len) const {
      const size_t at = Offset(reg);
      return nft::Bytes(bytes.begin() + at, bytes.begin() + at + len);
    }
  };

  void Load(const std::vector<nft::Rule>& rules, const std::vector<nft::Chain>& chains) {
    for (const nft::Chain& c : chains) chains_[c.name];
    for (const nft::Rule& r : rules) chains_[r.chain].push_back(r);
  }

  nft::Bytes NetworkHeader() const {
    nft::Bytes h(packet_.saddr.is_v4() ? 20 : 40, 0);
    size_t s = packet_.saddr.is_v4() ? 12 : 8;
    size_t d = packet_.saddr.is_v4() ? 16 : 24;
    std::memcpy(&h[s], packet_.saddr.data(), packet_.saddr.size());
    std::memcpy(&h[d], packet_.daddr.data(), packet_.daddr.size());
    return h;
  }

  nft::Bytes TransportHeader() const {
    nft::Bytes h(8, 0);
    if (packet_.l4proto == 1 || packet_.l4proto == 58) {
      h[0] = packet_.icmp_type;
    } else {
      h[2] = static_cast<uint8_t>(packet_.dport >> 8);
      h[3] = static_cast<uint8_t>(packet_.dport & 0xff);
    }
    return h;
  }

  nft::Bytes MetaValue(uint32_t key) const {
    switch (key) {
      case NFT_META_NFPROTO:
        return {static_cast<uint8_t>(packet_.saddr.is_v4() ? 2 : 10)};
      case NFT_META_L4PROTO:
        return {packet_.l4proto};
      case NFT_META_IIFNAME:
        return nft::IfnameKey(packet_.iifname);
      case NFT_META_TIME_NS: {
        nft::Bytes b(8);
        std::memcpy(b.data(), &packet_.time_ns, 8);
        return b;
      }
    }
    ADD_FAILURE() << "meta key " << key << " not modelled";
    return {};
  }

  bool SetHas(const std::string& set, const Regs& regs, uint32_t sreg,
              nft::Verdict* verdict) const {
    auto it = sets_.find(set);
    if (it == sets_.end()) {
      ADD_FAILURE() << "lookup in undeclared set " << set;
      return false;
    }
    for (const nft::SetElement& e : it->second) {
      if (e.key == regs.Load(sreg, e.key.size())) {
        if (verdict != nullptr && e.verdict) *verdict = *e.verdict;
        return true;
      }
    }
    return false;
  }

  // Evaluates one rule: nullopt = no match (next rule), else its verdict.
  std::optional<nft::Verdict> EvalRule(const nft::Rule& rule, std::optional<Outcome>& reject) {
    Regs regs;
    for (const nft::Expr& e : rule.exprs) {
      if (const auto* m = std::get_if<nft::Meta>(&e)) {
        regs.Store(m->dreg, MetaValue(m->key));
      } else if (const auto* p = std::get_if<nft::Payload>(&e)) {
        nft::Bytes h = p->base == NFT_PAYLOAD_NETWORK_HEADER ? NetworkHeader() : TransportHeader();
        regs.Store(p->dreg, nft::Bytes(h.begin() + p->offset, h.begin() + p->offset + p->len));
      } else if (const auto* c = std::get_if<nft::Cmp>(&e)) {
        // As the kernel: memcmp over the data's length.
        const nft::Bytes v = regs.Load(c->sreg, c->data.size());
        const int d = std::memcmp(v.data(), c->data.data(), v.size());
        bool match = false;
        switch (c->op) {
          case NFT_CMP_EQ:
            match = d == 0;
            break;
          case NFT_CMP_NEQ:
            match = d != 0;
            break;
          case NFT_CMP_LT:
            match = d < 0;
            break;
          case NFT_CMP_LTE:
            match = d <= 0;
            break;
          case NFT_CMP_GT:
            match = d > 0;
            break;
          case NFT_CMP_GTE:
            match = d >= 0;
            break;
          default:
            ADD_FAILURE() << "cmp op " << c->op;
        }
        if (!match) return std::nullopt;
      } else if (const auto* bo = std::get_if<nft::Byteorder>(&e)) {
        // Host order here is little endian: hton and ntoh both reverse
        // each `size`-byte unit.
        nft::Bytes v = regs.Load(bo->sreg, bo->len);
        for (size_t at = 0; at + bo->size <= v.size(); at += bo->size)
          std::reverse(v.begin() + at, v.begin() + at + bo->size);
        regs.Store(bo->dreg, v);
      } else if (const auto* b = std::get_if<nft::Bitwise>(&e)) {
        nft::Bytes v = regs.Load(b->sreg, b->len);
        for (size_t i = 0; i < b->len; ++i) v[i] = (v[i] & b->mask[i]) ^ b->xor_value[i];
        regs.Store(b->dreg, v);
      } else if (const auto* r = std::get_if<nft::Range>(&e)) {
        nft::Bytes v = regs.Load(r->sreg, r->from.size());
        bool in = std::memcmp(v.data(), r->from.data(), v.size()) >= 0 &&
                  std::memcmp(v.data(), r->to.data(), v.size()) <= 0;
        if ((r->op == NFT_RANGE_EQ) != in) return std::nullopt;
      } else if (const auto* l = std::get_if<nft::Lookup>(&e)) {
        nft::Verdict v;
        bool found = SetHas(l->set, regs, l->sreg, &v);
        if (l->dreg) {
          if (!found) return std::nullopt;
          return v;
        }
        if (found == l->invert) return std::nullopt;
      } else if (const auto* ct = std::get_if<nft::Ct>(&e)) {
        IpAddr orig = packet_.ct_original_daddr.value_or(packet_.daddr);
        if (ct->key != NFT_CT_DST_IP || !orig.is_v4()) return std::nullopt;  // NFT_BREAK
        regs.Store(ct->dreg, nft::AddrKey(orig));
      } else if (const auto* rj = std::get_if<nft::Reject>(&e)) {
        reject = rj->type == NFT_REJECT_TCP_RST ? Outcome::kRejectTcpReset : Outcome::kRejectIcmp;
        return nft::Verdict{nft::VerdictCode::kDrop, {}};
      } else if (const auto* v = std::get_if<nft::Verdict>(&e)) {
        return *v;
      } else if (!std::holds_alternative<nft::Counter>(e) &&
                 !std::holds_alternative<nft::ObjRef>(e)) {
        ADD_FAILURE() << "expression not modelled in rule of " << rule.chain;
        return std::nullopt;
      }
    }
    return nft::Verdict{nft::VerdictCode::kContinue, {}};
  }

  // nullopt: the chain ran out (return to the caller).
  std::optional<Outcome> RunChain(const std::string& name, int depth) {
    if (depth > 16 || !chains_.contains(name)) {
      ADD_FAILURE() << "bad chain " << name;
      return Outcome::kNoVerdict;
    }
    for (const nft::Rule& rule : chains_[name]) {
      std::optional<Outcome> reject;
      std::optional<nft::Verdict> v = EvalRule(rule, reject);
      if (!v) continue;
      switch (v->code) {
        case nft::VerdictCode::kContinue:
          continue;
        case nft::VerdictCode::kAccept:
          return Outcome::kAccept;
        case nft::VerdictCode::kDrop:
          return reject.value_or(Outcome::kDrop);
        case nft::VerdictCode::kReturn:
          return std::nullopt;
        case nft::VerdictCode::kJump: {
          std::optional<Outcome> o = RunChain(v->chain, depth + 1);
          if (o) return o;
          continue;
        }
        case nft::VerdictCode::kGoto:
          return RunChain(v->chain, depth + 1);
      }
    }
    return std::nullopt;
  }

  std::map<std::string, std::vector<nft::Rule>> chains_;
  std::map<std::string, std::vector<nft::SetElement>> sets_;
  Packet packet_;
};

}  // namespace qnet::firewall::testing
