// A small interpreter of qnet's nft values, for tests: runs one packet
// through a chain as the kernel would and reports what happened. It models
// the kernel's register file (16-byte NFT_REG_1..4 overlaying the 32-bit
// NFT_REG32_*, so a concatenation is one key), and the expressions qnet
// emits: meta (nfproto, l4proto, iifname, oifname, mark, skuid, time), payload
// of the network and transport headers, cmp (every operator), bitwise,
// byteorder, range, set lookups and verdict maps, ct state and ct original
// daddr, immediate data, dnat, masquerade, reject, named and anonymous
// counters, and the verdicts with jump/goto/return. Any other expression, an
// undeclared chain or set, is a test failure (ADD_FAILURE), never a guess.
// Shared by the firewall, vpn and tor unit tests (one interpreter, not one
// per ruleset). Not thread-safe; test-only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/nft/match.h"
#include "qnet/nft/ruleset.h"

namespace qnet::testing {

// What the interpreter knows of a packet. The header family follows `v6`;
// an address of the other family (or unset) reads as zeros.
struct NftPacket {
  bool v6 = false;
  std::string iifname;
  std::string oifname;
  IpAddr saddr;
  IpAddr daddr;
  std::optional<IpAddr> ct_original_daddr;  // before DNAT; defaults to daddr
  uint8_t l4proto = 6;                      // tcp
  uint16_t sport = 40000;
  uint16_t dport = 80;
  uint8_t tcp_flags = 0x02;  // SYN
  uint8_t icmp_type = 0;     // ICMP and ICMPv6: the first byte of the header
  uint32_t mark = 0;
  uint32_t skuid = 0;
  uint32_t ct_state = nft::kCtNew;
  uint64_t time_ns = 0;  // the kernel clock (CLOCK_REALTIME, ns)
};

enum class NftOutcome {
  kAccept,
  kDrop,
  kReject,  // NftResult::reject says which
  kDnat,    // NftResult::dnat_* say where
  kMasquerade,
  kNoVerdict,  // the chain returned (or ran out) to its caller
};

struct NftResult {
  NftOutcome outcome = NftOutcome::kNoVerdict;
  std::optional<nft::Reject> reject;
  std::optional<IpAddr> dnat_addr;
  std::optional<uint16_t> dnat_port;
  // Named counters (objref) of the rule that decided; for kNoVerdict, of
  // the rule that returned, if any.
  std::vector<std::string> counters;
};

class NftEvaluator {
 public:
  // Declares chains and sets, and adds rules (to Rule::chain, which is
  // declared with it) and elements (to a declared set or map).
  void AddChain(const std::string& name);
  void AddRules(const std::vector<nft::Rule>& rules);
  void AddSet(const std::string& name);
  void AddElements(const std::string& set, const std::vector<nft::SetElement>& elements);

  // Runs the packet through `chain` (following jump and goto).
  NftResult Run(const std::string& chain, const NftPacket& packet);

 private:
  struct Regs;
  enum class Step { kNext, kMatch, kEnd };
  Step EvalRule(const nft::Rule& rule, Regs& regs, nft::Verdict& verdict);
  std::optional<NftResult> RunChain(const std::string& name, int depth);
  nft::Bytes MetaValue(uint32_t key) const;
  nft::Bytes Header(uint32_t base) const;
  bool Lookup(const nft::Lookup& l, const Regs& regs, nft::Verdict* verdict) const;

  std::map<std::string, std::vector<nft::Rule>> chains_;
  std::map<std::string, std::vector<nft::SetElement>> sets_;
  NftPacket packet_;
  NftResult result_;  // of the rule being evaluated
};

}  // namespace qnet::testing
