// The agent's nftables work: lockdown first, then the role's chains.
#pragma once

#include "qnet/agent/config.h"
#include "qnet/base/result.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/batch.h"
#include "qnet/nft/ruleset.h"

#include <string>
#include <utility>
#include <vector>

namespace qnet::agent {

// Creates the qube's `inet qnet` table with every filter base chain ending
// in a counted drop, unless it already exists (an agent restart must never
// flush what the previous incarnation installed). *created tells which.
Status Lockdown(netlink::Socket& nf, bool* created);

// The capability chains a role runs, in the order the base chains jump to them.
std::vector<std::string> CapabilitiesForRole(const std::string& role);

// The chains, sets and rules one capability owns in the qube's table.
struct CapabilityRules {
  std::vector<std::string> chains;  // every chain it owns (flushed on reload)
  std::vector<nft::Rule> rules;
  std::vector<std::pair<nft::Set, std::vector<nft::SetElement>>> sets;
};

// Pure: the netvm basics (forwarding from vifs, anti-spoofing, no vif to vif,
// clients reach the netvm only for DNS and ICMP, DNS DNAT, masquerade) or
// an app qube's own rules.
CapabilityRules RoleRules(const AgentConfig& config);

// Installs the capability chains and fills them, plus `extra` (the firewall
// capability's contents), all in one transaction.
Status InstallRoleRules(netlink::Socket& nf, const AgentConfig& config,
                        const nft::Batch& extra = nft::Batch());

#ifdef QNET_TEST_HOOKS
// Test hook (test builds only) for the reload-under-fire test. safe: flush and refill the role's
// chains (the only way qnet reloads). unsafe: delete the whole table, then
// re-add it (two transactions), the way that leaks; only the positive control.
// `extra` (the firewall's contents) is re-added after the unsafe delete.
Status ReloadRoleRules(netlink::Socket& nf, const AgentConfig& config, bool unsafe,
                       const nft::Batch& extra = nft::Batch());
#endif

}  // namespace qnet::agent
