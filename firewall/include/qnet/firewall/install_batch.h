// The firewall capability's transactions: compiled client rules in, nft
// batches out (README.md "What the compiler emits"): the full install, one
// client replaced, the drop-all fallback, a host-set refresh, and what an
// agent that restarts adopts from the kernel. Pure: unit-tested without root.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/firewall/compiler.h"
#include "qnet/nft/batch.h"
#include "qnet/nft/readback.h"

namespace qnet::firewall {

// What the agent keeps of an installed client: what Stale() and `list` need
// (its object names, map entries and notes), without its rules or the
// elements of its sets.
ClientRules InstalledObjects(const ClientRules& c);

// Shared chains and maps plus every client in `compiled`: what the full
// install appends to the netvm's transaction (the rules are moved into it).
// Objects of `previous` clients no longer present are deleted (after the
// maps stop leading to them). `installed`, when given, receives each
// client's InstalledObjects: what the agent keeps once the batch commits.
nft::Batch FirewallInstallBatch(CompiledFirewall&& compiled,
                                const std::map<uint32_t, ClientRules>& previous,
                                std::map<uint32_t, ClientRules>* installed = nullptr);

// One client replaced: its chains, sets and counter refilled, its map
// entries updated, what Stale(before, after) lists deleted. Nothing shared
// and no other client is touched.
nft::Batch FirewallClientBatch(const ClientRules& before, ClientRules after);

// The fallback when FirewallClientBatch(before, ...) was refused: every chain
// of `before` and of `drop` (CompileDropAll's output) flushed, `drop`'s final
// drop and map entries added. It deletes nothing and touches no set, so what
// made the first batch fail (a deletion, a set's flags) is not in it.
nft::Batch FirewallDropAllBatch(const ClientRules& before, const ClientRules& drop);

// Both clients' objects (of the same client id): what the kernel holds
// after FirewallDropAllBatch(a, b), so the next change deletes what is stale.
ClientRules MergeInstalled(const ClientRules& a, const ClientRules& b);

// A hostname refresh that leaves the rules as they are: each client's host
// sets flushed and refilled, for every client at once (one transaction).
// Rules, and so their hit counters, are untouched.
nft::Batch FirewallSetsBatch(const std::vector<ClientRules>& clients);

// What the kernel's table holds of `client`'s objects (by name: fw-<id> and
// fw-<id>-..., and the shared maps' entries that lead to them or name its
// vif), for an agent that restarts inside a running qube.
ClientRules AdoptClientObjects(const nft::TableState& table, const Client& client);

}  // namespace qnet::firewall
