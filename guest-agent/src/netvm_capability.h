// The "netvm" capability: what every network-providing qube does for the
// clients on its vifs (docs/addresses.md; contracts 7 and 8 of
// docs/security-contract.md): forwarding from a vif only with the client's
// own address and only to the uplink (through the firewall's chain), no vif
// to vif, clients reach the netvm itself only for DNS and ICMP, the virtual
// DNS DNATed upstream, masquerade.
#pragma once

#include "qnet/qube/capability.h"

namespace qnet::agent {

// Pure: the netvm's chains, its client sets and rules for `config`.
qube::CapabilityRules NetvmRules(const qube::AgentConfig& config);

class NetvmCapability final : public qube::Capability {
 public:
  std::string_view name() const override { return "netvm"; }
  bool forwards() const override { return true; }
  Result<nft::Batch> Install(const qube::AgentConfig& config) override {
    return qube::ReplaceBatch(NetvmRules(config));
  }
};

}  // namespace qnet::agent
