// Topology queries over a ChainSpec: who routes through whom.
// Pure functions; names are returned by value, so they outlive the spec.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/config/chain_spec.h"

namespace qnet::config {

// Every qube, each after its netvm (so the net qube first); among qubes
// whose netvms are already placed, file order. This is the order to bring a
// chain up in; reversed, to take it down.
// kInvalidArgument on an unknown netvm or a cycle (never for a parsed spec).
Result<std::vector<std::string>> TopologicalOrder(const ChainSpec& spec);

// The qubes whose netvm is `name`, in file order (empty if none or unknown).
std::vector<std::string> ClientsOf(const ChainSpec& spec, std::string_view name);

// The path from `name` to the net qube, both included:
// {"anon-ws", "sys-whonix", "sys-vpn", "sys-firewall", "sys-net"}.
// kNotFound for an unknown qube; kInvalidArgument on an unknown netvm, a
// cycle, or a path that ends at a qube with no netvm that is not of role net.
Result<std::vector<std::string>> PathToNet(const ChainSpec& spec, std::string_view name);

}  // namespace qnet::config
