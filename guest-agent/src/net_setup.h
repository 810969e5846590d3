// Applies an AgentConfig's addresses, routes, neighbours and sysctls inside
// the qube's own network namespace (the agent runs there).
#pragma once

#include "qnet/base/result.h"
#include "qnet/netlink/socket.h"
#include "qnet/qube/agent_config.h"

namespace qnet::agent {

// Idempotent: re-applying the same config changes nothing. forward: the
// qube forwards packets (one of its capabilities needs it).
// Links must already be up (qnetd brings them up after verifying lockdown).
Status ApplyNetworkConfig(netlink::Socket& rtnl, const qube::AgentConfig& config, bool forward);

// IPv6 off: disable it for every current and future link of this namespace,
// before any link exists (no DAD, RS or MLD packet ever leaves).
Status DisableIpv6Everywhere();

// Writes the qube's own resolv.conf (the file bound over /etc/resolv.conf).
Status WriteResolvConf(const std::vector<IpAddr>& nameservers);

}  // namespace qnet::agent
