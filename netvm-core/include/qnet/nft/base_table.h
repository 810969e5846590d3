// The qube's one nftables table, `inet qnet` (docs/architecture.md "One nftables table
// per qube", contracts 1, 4 and 7), as pure Batch builders.
//
// Base chains (created once, never deleted while the qube lives):
//   input       filter hook input       priority 0    policy drop
//   forward     filter hook forward     priority 0    policy drop
//   output      filter hook output      priority 0    policy drop
//   prerouting  nat    hook prerouting  priority -100 policy accept
//   postrouting nat    hook postrouting priority 100  policy accept
// Named counters drop-input, drop-forward, drop-output.
//
// A filter base chain's contents are fixed, in this order:
//   1. always-rules:
//      input:   iifname "lo" accept;
//               ICMPv6 neighbour solicitation (135) and advertisement (136)
//               with hop limit 255 accept
//      output:  oifname "lo" accept;
//               ICMPv6 router solicitation (133), NS (135), NA (136) with hop
//               limit 255 accept
//      forward: none
//      Router advertisements (134) and redirects (137) are never accepted
//      here: a qube that needs them (an uplink using SLAAC) accepts them in a
//      capability chain, on that interface only.
//   2. `jump <cap>-<hook>` for each capability, in the caller's order;
//   3. `counter name "drop-<hook>" drop`.
// Nat base chains hold only the jumps. Capability chains are regular chains
// named `<cap>-input`, `<cap>-forward`, `<cap>-output`, `<cap>-prerouting`,
// `<cap>-postrouting` (all five for each capability); a capability fills
// only its own chains, with ReplaceChainsBatch.
//
// All functions are pure and thread-safe; each returns one transaction.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/nft/batch.h"
#include "qnet/nft/ruleset.h"

namespace qnet::nft {

inline constexpr std::string_view kQnetTableName = "qnet";
Table QnetTable();  // inet qnet

// The five base chains, filter ones first (input, forward, output,
// prerouting, postrouting).
std::vector<Chain> BaseChains();
// "drop-input" for hook input, etc. (filter hooks only).
std::string DropCounterName(Hook hook);
// "<cap>-input" etc.
std::string CapabilityChainName(std::string_view capability, Hook hook);

// The rules of one base chain for the given capabilities (what the refill
// writes): always-rules, jumps, final drop (filter chains).
std::vector<Rule> BaseChainRules(const Chain& base_chain,
                                 const std::vector<std::string>& capabilities);

// Contract 1: creates the table, the counters and the base chains holding
// only the always-rules and the final drops (base chains are flushed and
// refilled, so the batch is idempotent). On an existing table it resets the
// base chains to lockdown, removing the capability jumps (traffic closes);
// an agent that restarts inside a running qube checks TableExists and skips it.
Batch LockdownBatch();

// Creates the capability chains (empty; existing ones keep their rules) and
// rewrites every base chain's fixed contents (flush + always-rules + jumps +
// final drop), in one transaction. Requires the lockdown table. Capability
// names must be non-empty; an invalid one makes the batch's status an error.
Batch InstallCapabilitiesBatch(const std::vector<std::string>& capabilities);

struct SetContents {
  Set set;
  std::vector<SetElement> elements;
};

// Contract 4: flushes and refills only the given chains (created if missing,
// as regular chains) and sets (created if missing; must not be constant),
// in one transaction: chains and sets are created first, then sets are
// flushed and refilled, then chains. Never deletes anything. A base chain
// name among `chains` makes the batch's status an error. Each rule's chain
// field is set to its map key.
Batch ReplaceChainsBatch(const std::map<std::string, std::vector<Rule>>& chains,
                         const std::vector<SetContents>& sets = {});
// The same, moving the rules and elements into the batch.
Batch ReplaceChainsBatch(std::map<std::string, std::vector<Rule>>&& chains,
                         std::vector<SetContents>&& sets);

}  // namespace qnet::nft
