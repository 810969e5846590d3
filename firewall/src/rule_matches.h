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

// Which of the client's chains an alternative belongs in: the IPv4 one
// (fw-<id>), the IPv6 one (fw-<id>-6), or both (a rule that names neither
// a destination nor an ICMP flavour matches either family alike).
enum class Fam : uint8_t { kAny, kV4, kV6 };

struct Alternative {
  Fam fam = Fam::kAny;
  nft::Exprs exprs;  // a family-specific match starts with its family test, as nft writes it
};

// The match alternatives of `rule` (without counter or verdict): the rule
// matches a packet when any one of them does. Empty: it matches nothing
// (also an IPv6-only rule for a client without IPv6).
std::vector<Alternative> MatchAlternatives(const Rule& rule, const RuleScope& scope);

// The time test of an expiring rule (unix seconds): true while the kernel's
// clock is before `expire`, and for an accept also at or after `not_before`
// (the compile time): were the clock set back, an expired accept must not
// open again; a drop (not_before nullopt) holds whatever the clock says
// before its expiry. nullopt when the expiry is beyond what 64-bit
// nanoseconds hold (year 2554): such a rule never expires in practice.
std::optional<nft::Exprs> ExpiryTest(int64_t expire, std::optional<int64_t> not_before);

}  // namespace qnet::firewall::internal
