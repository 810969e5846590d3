// Capabilities of qubes that forward nothing: "app" (a workstation) and the
// tor gateway's placeholder "tor", which keeps a gateway closed until the
// tor-gateway module's own capability replaces it (contract 6: nothing
// leaves that is not Tor, so today nothing leaves for its clients at all).
#pragma once

#include <optional>

#include "qnet/base/clock.h"
#include "qnet/qube/capability.h"

namespace qnet::agent {

// Pure: established/related and ICMP in, everything out, in chains
// "<name>-input" and "<name>-output".
qube::CapabilityRules ClosedRules(std::string_view name);

class AppCapability final : public qube::Capability {
 public:
  std::string_view name() const override { return "app"; }
  Result<nft::Batch> Install(const qube::AgentConfig&) override {
    return qube::ReplaceBatch(ClosedRules(name()));
  }
};

// Forwards nothing; its clients' firewall lists can only be the default
// (firewall::CheckListForNetvm), in the config and in qnet.Firewall, which
// it serves so that `qnet firewall` on its clients says so.
class TorPlaceholderCapability final : public qube::Capability {
 public:
  explicit TorPlaceholderCapability(const Clock& clock) : clock_(clock) {}
  std::string_view name() const override { return "tor"; }
  Result<nft::Batch> Install(const qube::AgentConfig& config) override;
  void Installed(const qube::AgentConfig& config, bool) override { config_ = config; }
  void Adopt(const qube::AgentConfig& config, const nft::TableState&) override { config_ = config; }
  std::vector<qrexec::ServiceEntry> Services() override;

 private:
  const Clock& clock_;
  std::optional<qube::AgentConfig> config_;  // the one in force
};

}  // namespace qnet::agent
