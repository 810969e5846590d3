#include "capability_table.h"

#include <span>

#include "closed_capabilities.h"
#include "netvm_capability.h"
#include "qnet/tor/capability.h"
#include "qnet/vpn/capability.h"

namespace qnet::agent {
namespace {

using Factory = std::unique_ptr<qube::Capability> (*)(const CapabilityDeps&);

std::unique_ptr<qube::Capability> Netvm(const CapabilityDeps&) {
  return std::make_unique<NetvmCapability>();
}
std::unique_ptr<qube::Capability> Firewall(const CapabilityDeps& d) {
  return std::make_unique<firewall::FirewallCapability>(d.qube, d.nft, d.resolve, d.clock,
                                                        d.refresh_floor);
}
std::unique_ptr<qube::Capability> Tor(const CapabilityDeps& d) {
  return std::make_unique<TorGatewayCapability>(
      d.clock, std::make_unique<tor::TorCapability>(
                   d.nft, tor::TorCapabilityParams{.id_base = d.id_base, .paths = d.tor_paths}));
}
std::unique_ptr<qube::Capability> Vpn(const CapabilityDeps& d) {
  return std::make_unique<vpn::VpnCapability>(vpn::VpnDeps{
      .qube = d.qube, .resolve = d.resolve_host, .kernel_wireguard = d.kernel_wireguard});
}
std::unique_ptr<qube::Capability> App(const CapabilityDeps&) {
  return std::make_unique<AppCapability>();
}

// Every network-providing qube enforces its clients' firewall rules, as in
// Qubes. The vpn role's kill switch comes first: its guards drop before the
// netvm's accepts (netvm-output accepts all, netvm-prerouting DNATs DNS
// upstream) could act.
constexpr Factory kNetvmFirewall[] = {Netvm, Firewall};
constexpr Factory kVpn[] = {Vpn, Netvm, Firewall};
constexpr Factory kTor[] = {Tor};
constexpr Factory kApp[] = {App};

struct RoleRow {
  qube::Role role;
  std::span<const Factory> capabilities;
};
constexpr RoleRow kRoles[] = {
    {qube::Role::kNet, kNetvmFirewall}, {qube::Role::kFirewall, kNetvmFirewall},
    {qube::Role::kVpn, kVpn},           {qube::Role::kTor, kTor},
    {qube::Role::kApp, kApp},
};

}  // namespace

CapabilityList CapabilitiesFor(qube::Role role, const CapabilityDeps& deps) {
  CapabilityList out;
  for (const RoleRow& row : kRoles)
    if (row.role == role)
      for (Factory make : row.capabilities) out.push_back(make(deps));
  return out;
}

}  // namespace qnet::agent
