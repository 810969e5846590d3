// The kill switch's view of the shared nft interpreter
// (qnet/testing/nft_eval.h): a packet run through one vpn-* chain, as the
// kernel would, with the compiled kill switch loaded. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "qnet/testing/nft_eval.h"
#include "qnet/vpn/kill_switch.h"

namespace qnet::vpn::testing {

struct Packet {
  std::string iifname;
  std::string oifname;
  IpAddr saddr;  // its family is the packet's
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
    for (const nft::Chain& c : ks.chains) eval_.AddChain(c.name);
    eval_.AddRules(ks.rules);
    for (const nft::SetContents& s : ks.sets) {
      eval_.AddSet(s.set.name);
      eval_.AddElements(s.set.name, s.elements);
    }
  }

  Verdict Run(const std::string& chain, const Packet& p) {
    ::qnet::testing::NftPacket n;
    n.v6 = !p.saddr.is_v4();
    n.iifname = p.iifname;
    n.oifname = p.oifname;
    n.saddr = p.saddr;
    n.daddr = p.daddr;
    n.l4proto = p.l4proto;
    n.sport = p.sport;
    n.dport = p.dport;
    n.mark = p.mark;
    n.ct_state = p.ct_state;
    const ::qnet::testing::NftResult r = eval_.Run(chain, n);
    Verdict out;
    if (!r.counters.empty()) out.counter = r.counters.back();
    switch (r.outcome) {
      case ::qnet::testing::NftOutcome::kAccept:
        out.outcome = Outcome::kAccept;
        break;
      case ::qnet::testing::NftOutcome::kDrop:
        out.outcome = Outcome::kDrop;
        break;
      case ::qnet::testing::NftOutcome::kNoVerdict:
        out.outcome = Outcome::kReturn;
        break;
      case ::qnet::testing::NftOutcome::kDnat:
        out.outcome = Outcome::kDnat;
        out.dnat_to = r.dnat_addr;
        break;
      case ::qnet::testing::NftOutcome::kMasquerade:
        out.outcome = Outcome::kMasquerade;
        break;
      case ::qnet::testing::NftOutcome::kReject:
        ADD_FAILURE() << "the kill switch drops, it never rejects";
        out.outcome = Outcome::kDrop;
        break;
    }
    return out;
  }

 private:
  ::qnet::testing::NftEvaluator eval_;
};

}  // namespace qnet::vpn::testing
