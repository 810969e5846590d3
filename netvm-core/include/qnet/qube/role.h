// A qube's role in a chain: what it does with the traffic of its clients.
#pragma once

#include <array>
#include <string_view>

#include "qnet/base/result.h"

namespace qnet::qube {

enum class Role {
  kNet,       // "net": owns the uplink (sys-net); has no netvm
  kFirewall,  // "firewall": enforces its clients' Qubes firewall rules
  kVpn,       // "vpn": forwards its clients only through a WireGuard tunnel
  kTor,       // "tor": Whonix-style gateway, no forwarding, only Tor
  kApp,       // "app": a workstation; provides no network
};

// Every role, in declaration order (the order error messages list them in).
inline constexpr std::array<Role, 5> kAllRoles = {Role::kNet, Role::kFirewall, Role::kVpn,
                                                  Role::kTor, Role::kApp};

// "net", "firewall", "vpn", "tor" or "app".
std::string_view RoleName(Role role);

// Parses a role name (exact, lower case). The error (kInvalidArgument) names
// the text and lists the valid names:
//   unknown role 'proxy' (valid: net, firewall, vpn, tor, app)
Result<Role> ParseRole(std::string_view text);

// True when qubes of this role may be another qube's netvm (every role but app).
bool ProvidesNetwork(Role role);

}  // namespace qnet::qube
