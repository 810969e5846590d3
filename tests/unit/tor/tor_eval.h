// A small interpreter of the nft values the tor ruleset emits, for tests:
// runs a packet through one of the tor-* chains as the kernel would (meta,
// payload, cmp, bitwise, ct state, set lookups, dnat, reject, verdicts) and
// reports what happened. Test-only, header-only.
#pragma once

#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "qnet/nft/match.h"
#include "qnet/tor/transparent_rules.h"

namespace qnet::tor::testing {

struct Packet {
  std::string iifname;
  std::string oifname;
  bool v6 = false;
  IpAddr daddr;
  uint8_t l4proto = 6;
  uint16_t dport = 80;
  uint8_t tcp_flags = 0x02;  // SYN
  uint8_t icmp_type = 0;
  uint32_t skuid = 0;
  uint32_t ct_state = nft::kCtNew;
};

enum class Outcome { kAccept, kDrop, kRejectTcpReset, kRejectPortUnreachable, kDnat, kNoVerdict };

struct Result {
  Outcome outcome = Outcome::kNoVerdict;
  std::optional<IpAddr> dnat_addr;
  std::optional<uint16_t> dnat_port;
  std::vector<std::string> counters;  // named counters hit
};

class Evaluator {
 public:
  explicit Evaluator(const GatewayRules& rules) : rules_(rules) {
    for (const nft::SetContents& s : rules.sets) sets_[s.set.name] = s.elements;
  }

  Result Run(nft::Hook hook, const Packet& p) {
    packet_ = p;
    result_ = {};
    const auto& rules = rules_.chains.at(nft::CapabilityChainName(kCapability, hook));
    for (const nft::Rule& r : rules) {
      if (RunRule(r)) return result_;
    }
    return result_;
  }

 private:
  static nft::Bytes Be16(uint16_t v) {
    return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  }
  static nft::Bytes Host32(uint32_t v) {
    nft::Bytes b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
  }

  nft::Bytes Meta(uint32_t key) const {
    switch (key) {
      case NFT_META_NFPROTO:
        return {static_cast<uint8_t>(packet_.v6 ? NFPROTO_IPV6 : NFPROTO_IPV4)};
      case NFT_META_L4PROTO:
        return {packet_.l4proto};
      case NFT_META_IIFNAME:
      case NFT_META_OIFNAME: {
        nft::Bytes b(16, 0);
        const std::string& n = key == NFT_META_IIFNAME ? packet_.iifname : packet_.oifname;
        std::copy(n.begin(), n.end(), b.begin());
        return b;
      }
      case NFT_META_SKUID:
        return Host32(packet_.skuid);
    }
    ADD_FAILURE() << "meta key " << key << " not modelled";
    return {};
  }

  nft::Bytes Load(const nft::Payload& pl) const {
    if (pl.base == NFT_PAYLOAD_NETWORK_HEADER && pl.offset == 16 && pl.len == 4)
      return nft::Bytes(packet_.daddr.data(), packet_.daddr.data() + 4);
    if (pl.base == NFT_PAYLOAD_TRANSPORT_HEADER && pl.offset == 2 && pl.len == 2)
      return Be16(packet_.dport);
    if (pl.base == NFT_PAYLOAD_TRANSPORT_HEADER && pl.offset == 13 && pl.len == 1)
      return {packet_.tcp_flags};
    if (pl.base == NFT_PAYLOAD_TRANSPORT_HEADER && pl.offset == 0 && pl.len == 1)
      return {packet_.icmp_type};
    ADD_FAILURE() << "payload " << pl.base << "/" << pl.offset << "/" << pl.len << " not modelled";
    return {};
  }

  // True when the rule ended evaluation (a terminal verdict or dnat).
  bool RunRule(const nft::Rule& rule) {
    std::map<uint32_t, nft::Bytes> regs;
    std::vector<std::string> counted;
    for (const nft::Expr& e : rule.exprs) {
      if (auto* m = std::get_if<nft::Meta>(&e)) {
        regs[m->dreg] = Meta(m->key);
      } else if (auto* pl = std::get_if<nft::Payload>(&e)) {
        regs[pl->dreg] = Load(*pl);
      } else if (auto* c = std::get_if<nft::Cmp>(&e)) {
        const nft::Bytes& r = regs[c->sreg];
        bool eq =
            r.size() >= c->data.size() && std::equal(c->data.begin(), c->data.end(), r.begin());
        if ((c->op == NFT_CMP_EQ) != eq) return false;
      } else if (auto* b = std::get_if<nft::Bitwise>(&e)) {
        nft::Bytes r = regs[b->sreg];
        r.resize(b->len);
        for (size_t i = 0; i < b->len; ++i) r[i] = (r[i] & b->mask[i]) ^ b->xor_value[i];
        regs[b->dreg] = r;
      } else if (auto* ct = std::get_if<nft::Ct>(&e)) {
        regs[ct->dreg] = Host32(packet_.ct_state);
      } else if (auto* l = std::get_if<nft::Lookup>(&e)) {
        const auto& elems = sets_[l->set];
        const nft::Bytes& key = regs[l->sreg];
        bool found = std::any_of(elems.begin(), elems.end(), [&](const nft::SetElement& el) {
          return std::equal(el.key.begin(), el.key.end(), key.begin());
        });
        if (found == l->invert) return false;
      } else if (auto* imm = std::get_if<nft::ImmediateData>(&e)) {
        regs[imm->dreg] = imm->data;
      } else if (auto* nat = std::get_if<nft::Nat>(&e)) {
        const nft::Bytes& a = regs[nat->reg_addr_min];
        result_.dnat_addr = IpAddr::V4(a[0], a[1], a[2], a[3]);
        if (nat->reg_proto_min) {
          const nft::Bytes& p = regs[*nat->reg_proto_min];
          result_.dnat_port = static_cast<uint16_t>(p[0] << 8 | p[1]);
        }
        result_.outcome = Outcome::kDnat;
        result_.counters = counted;
        return true;
      } else if (auto* obj = std::get_if<nft::ObjRef>(&e)) {
        counted.push_back(obj->name);
      } else if (auto* rj = std::get_if<nft::Reject>(&e)) {
        result_.outcome = rj->type == NFT_REJECT_TCP_RST ? Outcome::kRejectTcpReset
                                                         : Outcome::kRejectPortUnreachable;
        result_.counters = counted;
        return true;
      } else if (auto* v = std::get_if<nft::Verdict>(&e)) {
        result_.counters = counted;
        if (v->code == nft::VerdictCode::kAccept)
          result_.outcome = Outcome::kAccept;
        else if (v->code == nft::VerdictCode::kDrop)
          result_.outcome = Outcome::kDrop;
        else
          ADD_FAILURE() << "verdict not modelled";
        return true;
      } else if (std::holds_alternative<nft::Counter>(e)) {
      } else {
        ADD_FAILURE() << "expression not modelled: " << nft::ToString(e);
        return true;
      }
    }
    return false;
  }

  const GatewayRules& rules_;
  std::map<std::string, std::vector<nft::SetElement>> sets_;
  Packet packet_;
  Result result_;
};

}  // namespace qnet::tor::testing
