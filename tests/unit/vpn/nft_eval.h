// A small interpreter of the nft values the kill switch emits, for tests:
// runs a packet through one vpn-* chain as the kernel would (registers,
// concatenated set lookups, ct state, nat) and reports what happened.
// Test-only, header-only.
#pragma once

#include <gtest/gtest.h>
#include <linux/netfilter/nf_tables.h>

#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "qnet/nft/match.h"
#include "qnet/vpn/kill_switch.h"

namespace qnet::vpn::testing {

struct Packet {
  std::string iifname;
  std::string oifname;
  IpAddr saddr;
  IpAddr daddr;
  uint8_t l4proto = 17;  // udp
  uint16_t sport = 40000;
  uint16_t dport = 51820;
  uint32_t mark = 0;
  uint32_t ct_state = nft::kCtNew;
};

// kReturn: the chain handed the packet on to the next capability.
enum class Outcome { kAccept, kDrop, kReturn, kDnat, kMasquerade };

inline const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kAccept:
      return "accept";
    case Outcome::kDrop:
      return "drop";
    case Outcome::kReturn:
      return "return";
    case Outcome::kDnat:
      return "dnat";
    case Outcome::kMasquerade:
      return "masquerade";
  }
  return "?";
}

struct Verdict {
  Outcome outcome = Outcome::kReturn;
  std::optional<IpAddr> dnat_to;
  std::string counter;  // the named counter the deciding rule hit, if any
};

class Evaluator {
 public:
  explicit Evaluator(const KillSwitchRules& ks) {
    for (const nft::Chain& c : ks.chains) chains_[c.name];
    for (const nft::Rule& r : ks.rules) {
      EXPECT_TRUE(chains_.contains(r.chain)) << "rule in undeclared chain " << r.chain;
      chains_[r.chain].push_back(r);
    }
    for (const nft::SetContents& s : ks.sets) sets_[s.set.name] = s.elements;
  }

  Verdict Run(const std::string& chain, const Packet& p) {
    packet_ = p;
    for (const nft::Rule& rule : chains_.at(chain)) {
      std::optional<Verdict> v = EvalRule(rule);
      if (v) return *v;
    }
    return Verdict{};
  }

 private:
  struct Regs {
    std::array<uint8_t, 64> bytes{};
    static size_t Offset(uint32_t reg) {
      return reg >= NFT_REG32_00 ? (reg - NFT_REG32_00) * 4 : (reg - NFT_REG_1) * 16;
    }
    void Store(uint32_t reg, const nft::Bytes& v) {
      const size_t at = Offset(reg);
      std::fill(bytes.begin() + at, bytes.begin() + at + (v.size() + 3) / 4 * 4, 0);
      std::copy(v.begin(), v.end(), bytes.begin() + at);
    }
    nft::Bytes Load(uint32_t reg, size_t len) const {
      const size_t at = Offset(reg);
      return nft::Bytes(bytes.begin() + at, bytes.begin() + at + len);
    }
  };

  static nft::Bytes HostU32(uint32_t v) {
    nft::Bytes b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
  }

  nft::Bytes MetaValue(uint32_t key) const {
    switch (key) {
      case NFT_META_NFPROTO:
        return {static_cast<uint8_t>(packet_.saddr.is_v4() ? 2 : 10)};
      case NFT_META_L4PROTO:
        return {packet_.l4proto};
      case NFT_META_IIFNAME:
        return nft::IfnameKey(packet_.iifname);
      case NFT_META_OIFNAME:
        return nft::IfnameKey(packet_.oifname);
      case NFT_META_MARK:
        return HostU32(packet_.mark);
    }
    ADD_FAILURE() << "meta key " << key << " not modelled";
    return {};
  }

  nft::Bytes Header(uint32_t base) const {
    if (base == NFT_PAYLOAD_TRANSPORT_HEADER) {
      nft::Bytes h(8, 0);
      h[0] = static_cast<uint8_t>(packet_.sport >> 8);
      h[1] = static_cast<uint8_t>(packet_.sport);
      h[2] = static_cast<uint8_t>(packet_.dport >> 8);
      h[3] = static_cast<uint8_t>(packet_.dport);
      return h;
    }
    const bool v4 = packet_.saddr.is_v4();
    nft::Bytes h(v4 ? 20 : 40, 0);
    std::memcpy(&h[v4 ? 12 : 8], packet_.saddr.data(), packet_.saddr.size());
    std::memcpy(&h[v4 ? 16 : 24], packet_.daddr.data(), packet_.daddr.size());
    return h;
  }

  std::optional<Verdict> EvalRule(const nft::Rule& rule) {
    Regs regs;
    Verdict out;
    for (const nft::Expr& e : rule.exprs) {
      if (const auto* m = std::get_if<nft::Meta>(&e)) {
        regs.Store(m->dreg, MetaValue(m->key));
      } else if (const auto* p = std::get_if<nft::Payload>(&e)) {
        const nft::Bytes h = Header(p->base);
        if (p->offset + p->len > h.size()) return std::nullopt;
        regs.Store(p->dreg, nft::Bytes(h.begin() + p->offset, h.begin() + p->offset + p->len));
      } else if (const auto* c = std::get_if<nft::Cmp>(&e)) {
        const nft::Bytes v = regs.Load(c->sreg, c->data.size());
        const int d = std::memcmp(v.data(), c->data.data(), v.size());
        if ((c->op == NFT_CMP_EQ && d != 0) || (c->op == NFT_CMP_NEQ && d == 0))
          return std::nullopt;
        if (c->op != NFT_CMP_EQ && c->op != NFT_CMP_NEQ) ADD_FAILURE() << "cmp op " << c->op;
      } else if (const auto* b = std::get_if<nft::Bitwise>(&e)) {
        nft::Bytes v = regs.Load(b->sreg, b->len);
        for (size_t i = 0; i < b->len; ++i) v[i] = (v[i] & b->mask[i]) ^ b->xor_value[i];
        regs.Store(b->dreg, v);
      } else if (const auto* l = std::get_if<nft::Lookup>(&e)) {
        auto it = sets_.find(l->set);
        if (it == sets_.end()) {
          ADD_FAILURE() << "lookup in undeclared set " << l->set;
          return std::nullopt;
        }
        bool found = false;
        for (const nft::SetElement& el : it->second)
          found = found || el.key == regs.Load(l->sreg, el.key.size());
        if (found == l->invert) return std::nullopt;
      } else if (const auto* ct = std::get_if<nft::Ct>(&e)) {
        if (ct->key != NFT_CT_STATE) ADD_FAILURE() << "ct key " << ct->key;
        regs.Store(ct->dreg, HostU32(packet_.ct_state));
      } else if (const auto* im = std::get_if<nft::ImmediateData>(&e)) {
        regs.Store(im->dreg, im->data);
      } else if (const auto* nat = std::get_if<nft::Nat>(&e)) {
        const nft::Bytes a = regs.Load(nat->reg_addr_min, nat->family == nft::Family::kIp ? 4 : 16);
        out.outcome = Outcome::kDnat;
        out.dnat_to =
            nat->family == nft::Family::kIp ? IpAddr::V4(a[0], a[1], a[2], a[3]) : IpAddr::V6([&] {
              std::array<uint8_t, 16> x;
              std::copy(a.begin(), a.end(), x.begin());
              return x;
            }());
        return out;
      } else if (std::holds_alternative<nft::Masq>(e)) {
        out.outcome = Outcome::kMasquerade;
        return out;
      } else if (const auto* o = std::get_if<nft::ObjRef>(&e)) {
        out.counter = o->name;
      } else if (const auto* v = std::get_if<nft::Verdict>(&e)) {
        switch (v->code) {
          case nft::VerdictCode::kAccept:
            out.outcome = Outcome::kAccept;
            return out;
          case nft::VerdictCode::kDrop:
            out.outcome = Outcome::kDrop;
            return out;
          case nft::VerdictCode::kReturn:
            out.outcome = Outcome::kReturn;
            return out;
          default:
            ADD_FAILURE() << "verdict not modelled in " << rule.chain;
            return std::nullopt;
        }
      } else if (!std::holds_alternative<nft::Counter>(e)) {
        ADD_FAILURE() << "expression not modelled in " << rule.chain << ": " << nft::ToString(e);
        return std::nullopt;
      }
    }
    return std::nullopt;  // no verdict: next rule
  }

  std::map<std::string, std::vector<nft::Rule>> chains_;
  std::map<std::string, std::vector<nft::SetElement>> sets_;
  Packet packet_;
};

}  // namespace qnet::vpn::testing
