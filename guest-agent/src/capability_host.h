// Hosts a qube's capabilities without knowing which they are: installs them
// as one transaction with the fail-closed ladder, serves their qrexec
// services, ticks them, and keeps their sections for the saved config.
// Not thread-safe: the agent's one thread calls it.
#pragma once

#include <string>
#include <vector>

#include "capability_table.h"
#include "qnet/nft/committer.h"
#include "qnet/nft/readback.h"
#include "qnet/qrexec/service.h"
#include "qnet/qube/agent_config.h"

namespace qnet::agent {

class CapabilityHost {
 public:
  // `nft` is borrowed and must outlive the host.
  CapabilityHost(nft::Committer& nft, CapabilityList capabilities)
      : nft_(nft), capabilities_(std::move(capabilities)) {}
  CapabilityHost(const CapabilityHost&) = delete;
  CapabilityHost& operator=(const CapabilityHost&) = delete;
  CapabilityHost(CapabilityHost&&) = default;

  // Their names, in the order the base chains jump to them.
  std::vector<std::string> names() const;
  // True when one of them needs the qube to forward packets.
  bool forwards() const;

  // The base chains' jumps and every capability's contents for `config`,
  // in one transaction. When the kernel refuses it: the jumps with each
  // capability's closed contents (InstallClosed), in one transaction, then
  // whatever each capability retries on its own. Error (with the kernel's
  // first refusal) when a capability refuses the config (nothing sent) or
  // the closed transaction is refused too: the rules in force before stay.
  Status Install(const qube::AgentConfig& config);
  // After an agent restart: `config` is in force, `table` is what the kernel holds.
  void Adopt(const qube::AgentConfig& config, const nft::TableState& table);
#ifdef QNET_TEST_HOOKS
  // Reload-under-fire test hook (test builds only). safe: the same contents again, flushed and
  // refilled in one transaction (the only way qnet reloads). unsafe: the
  // table deleted, then created and filled again in a second transaction,
  // the way that leaks (the test's positive control only).
  Status Reload(const qube::AgentConfig& config, bool unsafe);
#endif

  // Every capability's services.
  std::vector<qrexec::ServiceEntry> Services();
  void Tick();
  // The union of every capability's daemons (qube/supervised_service.h).
  std::vector<qube::SupervisedService> Daemons() const;
  // Hands the init's report to every capability.
  void DaemonStates(const std::vector<qube::ServiceState>& states);
  // Each capability's section as it stands now, written into `config`.
  void UpdateSections(qube::AgentConfig& config) const;

 private:
  nft::Committer& nft_;
  CapabilityList capabilities_;
};

}  // namespace qnet::agent
