// Synthetic downstream clients for the firewall benchmarks: qube ids,
// addresses, vifs and a realistic mix of 10 Qubes rules each, generated
// deterministically from the client's index, plus the same rules as one
// linear nft rule per Qubes rule (the `nft -f` baseline). Pure, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/firewall/compiler.h"

namespace qnet::bench {

// Rules per synthetic client (the "1,000 clients x 10 rules").
inline constexpr size_t kRulesPerClient = 10;

// The Qubes rule texts of synthetic client number `index` (from 0), as
// `qvm-firewall add` takes them: hosts and networks, tcp/udp ports and
// ranges, ICMP types, then a final plain `accept` (even index) or `drop`
// (odd index). No hostnames and no expiry, so the compiled output depends on
// nothing but the index.
std::vector<std::string> SyntheticRuleTexts(uint32_t index);

// The same rules as nft statements after `ip saddr SADDR`, one per Qubes
// rule and in the same order, each with a counter as qnet's rules have:
// "ip daddr 203.0.113.7 tcp dport 443 counter accept".
std::vector<std::string> SyntheticNftStatements(uint32_t index);

// Client number `index` with qube id `id`: Qubes' address for the id
// (10.137.x.y), vif<id>.0, no IPv6, the rules above. Errors: id out of the
// qube id range.
Result<firewall::Client> SyntheticClient(uint32_t index, uint32_t id);

// `count` clients with ids first_id .. first_id+count-1 (indexes 0..count-1).
Result<std::vector<firewall::Client>> SyntheticClients(uint32_t first_id, uint32_t count);

}  // namespace qnet::bench
