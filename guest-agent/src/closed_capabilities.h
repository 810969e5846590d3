// Capabilities of qubes that forward nothing: "app" (a workstation) and
// "tor" (the gateway: tor-gateway's capability, which forwards nothing and
// passes its clients' traffic only to tor, contract 6), wrapped here with
// what the agent adds for its clients' firewall lists.
#pragma once

#include <memory>
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

// The gateway: `inner` (tor::TorCapability) does everything; this adds
// that its clients' firewall lists can only be the default
// (firewall::CheckListForNetvm), in the config and in qnet.Firewall, which
// it serves so that `qnet firewall` on its clients says so (role modules
// never include each other: the firewall check lives here).
class TorGatewayCapability final : public qube::Capability {
 public:
  TorGatewayCapability(const Clock& clock, std::unique_ptr<qube::Capability> inner)
      : clock_(clock), inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  bool forwards() const override { return inner_->forwards(); }
  Result<nft::Batch> Install(const qube::AgentConfig& config) override;
  Result<nft::Batch> InstallClosed(const qube::AgentConfig& config) override {
    return inner_->InstallClosed(config);
  }
  void Installed(const qube::AgentConfig& config, bool closed) override {
    config_ = config;
    inner_->Installed(config, closed);
  }
  void Adopt(const qube::AgentConfig& config, const nft::TableState& table) override {
    config_ = config;
    inner_->Adopt(config, table);
  }
  void Forget() override { inner_->Forget(); }
  std::vector<qrexec::ServiceEntry> Services() override;
  void Tick() override { inner_->Tick(); }
  std::vector<qube::SupervisedService> Daemons() const override { return inner_->Daemons(); }
  void DaemonStates(const std::vector<qube::ServiceState>& states) override {
    inner_->DaemonStates(states);
  }
  std::optional<std::string> Section() const override { return inner_->Section(); }

 private:
  const Clock& clock_;
  std::unique_ptr<qube::Capability> inner_;
  std::optional<qube::AgentConfig> config_;  // the one in force
};

}  // namespace qnet::agent
