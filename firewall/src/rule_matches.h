// Translation of one Qubes rule into nft match expressions, and of an
// expiry time into kernel time tests. Private to the compiler.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "qnet/firewall/compiler.h"
#include "qnet/firewall/rule.h"
#include "qnet/nft/match.h"

namespace qnet::firewall::internal {

// What translating one rule needs to know beyond the rule.
struct RuleScope {
  uint32_t client_id = 0;
  size_t number = 0;             // the rule's number in the list
  bool client_has_ipv6 = false;  // else no IPv6 half is emitted
  // The rule's hostname resolution; nullptr when it has none or it failed.
  const Resolution* resolution = nullptr;
};

// The match alternatives of `rule` (without counter or verdict): the rule
// matches a packet when any one of them does. Empty: it matches nothing.
std::vector<nft::Exprs> MatchAlternatives(const Rule& rule, const RuleScope& scope);

// The expiry test as alternatives, each true while the kernel clock is
// before `expire` (unix seconds), rounded to kTimeGranuleBits toward the
// safe side: down when `round_up` is false (an accept ends early), up when
// true (a drop ends late). With `skip_before`, terms that only match times
// before it are left out (for accept rules: a clock set back then closes).
// nullopt when the time is beyond what 64-bit nanoseconds hold (year
// 2554): such a rule never expires in practice.
inline constexpr int kTimeGranuleBits = 29;  // 2^29 ns = 0.54 s
std::optional<std::vector<nft::Exprs>> ExpiryTerms(int64_t expire, bool round_up,
                                                   std::optional<int64_t> skip_before);

}  // namespace qnet::firewall::internal
