#include "qnet/qube/role.h"

#include <fmt/format.h>

#include <string>

namespace qnet::qube {
namespace {

struct RoleRow {
  Role role;
  std::string_view name;
  bool provides_network;
};

// Indexed by Role; kAllRoles order.
constexpr RoleRow kRoles[] = {
    {Role::kNet, "net", true}, {Role::kFirewall, "firewall", true}, {Role::kVpn, "vpn", true},
    {Role::kTor, "tor", true}, {Role::kApp, "app", false},
};

const RoleRow& Row(Role role) { return kRoles[static_cast<size_t>(role)]; }

}  // namespace

std::string_view RoleName(Role role) { return Row(role).name; }

bool ProvidesNetwork(Role role) { return Row(role).provides_network; }

Result<Role> ParseRole(std::string_view text) {
  std::string valid;
  for (const RoleRow& row : kRoles) {
    if (row.name == text) return row.role;
    if (!valid.empty()) valid += ", ";
    valid += row.name;
  }
  return Fail(Errc::kInvalidArgument, fmt::format("unknown role '{}' (valid: {})", text, valid));
}

}  // namespace qnet::qube
