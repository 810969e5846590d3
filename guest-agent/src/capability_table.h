// The one table from a qube's role to its capabilities, in the order its
// base chains jump to them (docs/architecture.md "Capabilities"). A new
// role is its module's capability plus one row here.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "qnet/base/clock.h"
#include "qnet/firewall/capability.h"
#include "qnet/nft/committer.h"
#include "qnet/qube/capability.h"
#include "qnet/qube/role.h"
#include "qnet/tor/capability.h"

namespace qnet::agent {

// What capabilities are built with; borrowed, they must outlive them.
struct CapabilityDeps {
  std::string qube;
  nft::Committer& nft;
  firewall::Resolver resolve;
  const Clock& clock;
  // Hostname refresh floor: firewall::kMinRefresh, lower only in tests
  // (qnet-agent-test --refresh-floor).
  std::chrono::seconds refresh_floor = firewall::kMinRefresh;
  // The qube's host id range (its daemons' uids as the kernel sees them).
  uint32_t id_base = 0;
  // Where the gateway's tor lives in the qube (tests point it elsewhere).
  tor::GatewayPaths tor_paths;
  // The vpn capability's: endpoint names resolved in the qube, and whether
  // this kernel can make a WireGuard link.
  std::function<std::vector<IpAddr>(const std::string&)> resolve_host;
  bool kernel_wireguard = false;
};

using CapabilityList = std::vector<std::unique_ptr<qube::Capability>>;

// The role's capabilities, built, in table order.
CapabilityList CapabilitiesFor(qube::Role role, const CapabilityDeps& deps);

}  // namespace qnet::agent
