// The firewall's view of the shared nft interpreter (qnet/testing/nft_eval.h):
// a packet from a client's vif run through firewall-forward, as the kernel
// would, with the compiled output loaded. Test-only.
#pragma once

#include <linux/netfilter/nf_tables.h>

#include <optional>
#include <string>

#include "qnet/firewall/compiler.h"
#include "qnet/firewall/nft_names.h"
#include "qnet/testing/nft_eval.h"

namespace qnet::firewall::testing {

struct Packet {
  std::string iifname = "vif12.0";
  IpAddr saddr;  // its family is the packet's
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
    for (const nft::Chain& c : fw.chains) eval_.AddChain(c.name);
    for (const nft::Set& s : fw.sets) eval_.AddSet(s.name);
    for (const ClientRules& c : fw.clients) {
      for (const nft::Chain& ch : c.chains) eval_.AddChain(ch.name);
      for (const nft::SetContents& s : c.sets) {
        eval_.AddSet(s.set.name);
        eval_.AddElements(s.set.name, s.elements);
      }
    }
    eval_.AddRules(fw.rules);
    for (const ClientRules& c : fw.clients) {
      eval_.AddRules(c.rules);
      for (const SetEntries& m : c.map_entries) eval_.AddElements(m.set, m.elements);
    }
  }

  // Runs the packet through firewall-forward. kNoVerdict: it returned to
  // the base chain.
  Outcome Run(const Packet& p) {
    ::qnet::testing::NftPacket n;
    n.v6 = !p.saddr.is_v4();
    n.iifname = p.iifname;
    n.saddr = p.saddr;
    n.daddr = p.daddr;
    n.ct_original_daddr = p.ct_original_daddr;
    n.l4proto = p.l4proto;
    n.dport = p.dport;
    n.icmp_type = p.icmp_type;
    n.time_ns = p.time_ns;
    const ::qnet::testing::NftResult r = eval_.Run(std::string(kForwardChain), n);
    switch (r.outcome) {
      case ::qnet::testing::NftOutcome::kAccept:
        return Outcome::kAccept;
      case ::qnet::testing::NftOutcome::kDrop:
        return Outcome::kDrop;
      case ::qnet::testing::NftOutcome::kReject:
        return r.reject->type == NFT_REJECT_TCP_RST ? Outcome::kRejectTcpReset
                                                    : Outcome::kRejectIcmp;
      case ::qnet::testing::NftOutcome::kNoVerdict:
        return Outcome::kNoVerdict;
      default:
        ADD_FAILURE() << "the firewall neither translates nor masquerades";
        return Outcome::kNoVerdict;
    }
  }

 private:
  ::qnet::testing::NftEvaluator eval_;
};

}  // namespace qnet::firewall::testing
