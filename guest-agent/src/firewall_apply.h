// The "firewall" capability in a network-providing qube: the agent's
// clients and their rule lists in, nft batches out (firewall/README.md
// "What the compiler emits"). Pure: unit-tested without root.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "qnet/agent/config.h"
#include "qnet/base/result.h"
#include "qnet/firewall/compiler.h"
#include "qnet/nft/batch.h"

namespace qnet::agent {

// The compiler's view of the config's clients (rules included).
std::vector<firewall::Client> FirewallClients(const AgentConfig& config);

// Every hostname the clients' rules name.
std::vector<std::string> FirewallHostnames(const AgentConfig& config);

// Refuses a rule list a role cannot enforce: a tor gateway carries only Tor,
// so its clients get the default list (`accept`) and nothing else.
Status CheckRulesForRole(const std::string& role, const Client& client);

// Shared chains and maps plus every client in `compiled`: what the full
// install appends to the netvm's transaction. Objects of `previous` clients
// no longer present are deleted (after the maps stop leading to them).
nft::Batch FirewallInstallBatch(const firewall::CompiledFirewall& compiled,
                                const std::map<uint32_t, firewall::ClientRules>& previous);

// One client replaced: its chains, sets and counter refilled, its map
// entries updated, what Stale(before, after) lists deleted. Nothing shared
// and no other client is touched.
nft::Batch FirewallClientBatch(const firewall::ClientRules& before,
                               const firewall::ClientRules& after);

}  // namespace qnet::agent
