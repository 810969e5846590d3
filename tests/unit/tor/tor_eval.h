// The tor gateway's view of the shared nft interpreter
// (qnet/testing/nft_eval.h): a packet run through the tor-* chain of one
// hook, as the kernel would, with the gateway's rules loaded. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <linux/netfilter/nf_tables.h>

#include <optional>
#include <string>
#include <vector>

#include "qnet/testing/nft_eval.h"
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
  explicit Evaluator(const GatewayRules& rules) {
    for (const auto& [name, chain_rules] : rules.chains) {
      eval_.AddChain(name);
      std::vector<nft::Rule> in_chain = chain_rules;
      for (nft::Rule& r : in_chain) r.chain = name;
      eval_.AddRules(in_chain);
    }
    for (const nft::SetContents& s : rules.sets) {
      eval_.AddSet(s.set.name);
      eval_.AddElements(s.set.name, s.elements);
    }
  }

  Result Run(nft::Hook hook, const Packet& p) {
    ::qnet::testing::NftPacket n;
    n.v6 = p.v6;
    n.iifname = p.iifname;
    n.oifname = p.oifname;
    n.daddr = p.daddr;
    n.l4proto = p.l4proto;
    n.dport = p.dport;
    n.tcp_flags = p.tcp_flags;
    n.icmp_type = p.icmp_type;
    n.skuid = p.skuid;
    n.ct_state = p.ct_state;
    const ::qnet::testing::NftResult r = eval_.Run(nft::CapabilityChainName(kCapability, hook), n);
    Result out;
    out.dnat_addr = r.dnat_addr;
    out.dnat_port = r.dnat_port;
    switch (r.outcome) {
      case ::qnet::testing::NftOutcome::kAccept:
        out.outcome = Outcome::kAccept;
        break;
      case ::qnet::testing::NftOutcome::kDrop:
        out.outcome = Outcome::kDrop;
        break;
      case ::qnet::testing::NftOutcome::kReject:
        out.outcome = r.reject->type == NFT_REJECT_TCP_RST ? Outcome::kRejectTcpReset
                                                           : Outcome::kRejectPortUnreachable;
        break;
      case ::qnet::testing::NftOutcome::kDnat:
        out.outcome = Outcome::kDnat;
        break;
      case ::qnet::testing::NftOutcome::kNoVerdict:
        return out;  // no rule decided: no counters
      case ::qnet::testing::NftOutcome::kMasquerade:
        ADD_FAILURE() << "the tor gateway never masquerades";
        return out;
    }
    out.counters = r.counters;
    return out;
  }

 private:
  ::qnet::testing::NftEvaluator eval_;
};

}  // namespace qnet::tor::testing
