// A capability: one thing a qube's table does (netvm basics, the firewall,
// a vpn kill switch, Tor), as a type. It owns regular chains named
// `<name>-<hook>` (nft/base_table.h) plus the sets and maps it names, fills
// only those, adds qrexec services to the qube's agent and gets a periodic
// tick. The agent hosts a role's capabilities in the order of its row in
// the capability table and knows nothing else about them.
//
// Threading: the agent calls every method from its one thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/batch.h"
#include "qnet/nft/readback.h"
#include "qnet/nft/ruleset.h"
#include "qnet/qrexec/service.h"
#include "qnet/qube/agent_config.h"
#include "qnet/qube/supervised_service.h"

namespace qnet::qube {

// The chains, sets and rules a capability with fixed rules owns.
struct CapabilityRules {
  std::vector<std::string> chains;  // every chain it owns (flushed on each install)
  std::vector<nft::Rule> rules;
  std::vector<nft::SetContents> sets;
};

// Its contents as part of one transaction: every owned chain and set
// flushed and refilled (also a chain that gets no rule this time).
nft::Batch ReplaceBatch(const CapabilityRules& rules);

class Capability {
 public:
  virtual ~Capability() = default;

  // Names its chains and its section in AgentConfig::sections.
  virtual std::string_view name() const = 0;
  // True when the qube must forward packets for it (ip_forward on).
  virtual bool forwards() const { return false; }

  // Its contents of the qube's one transaction for `config`, computed from
  // the config (and what the capability learnt: resolved names, the time).
  // Nothing is applied; an error (a bad section) changes nothing.
  virtual Result<nft::Batch> Install(const AgentConfig& config) = 0;
  // What replaces Install's contents when the kernel refused the whole
  // transaction: contents that open nothing user input could have made
  // fail (the firewall: every client in drop-all). Default: Install's.
  virtual Result<nft::Batch> InstallClosed(const AgentConfig& config) { return Install(config); }
  // The transaction holding Install's (closed false) or InstallClosed's
  // (closed true) contents committed: `config` is the one in force.
  virtual void Installed(const AgentConfig& config, bool closed) {
    (void)config;
    (void)closed;
  }
  // An agent restarted inside a running qube: `config` is in force and
  // `table` is what the kernel holds (objects of the previous incarnation).
  virtual void Adopt(const AgentConfig& config, const nft::TableState& table) {
    (void)config;
    (void)table;
  }
  // The table was deleted and created again (the reload test's unsafe
  // path): nothing the capability installed exists any more.
  virtual void Forget() {}

  // The qrexec services it adds to the agent (qnet.<Name>).
  virtual std::vector<qrexec::ServiceEntry> Services() { return {}; }
  // Called about once a second by the agent's loop.
  virtual void Tick() {}
  // The daemons it wants running now (supervised_service.h), as a pure
  // function of the config it was installed or adopted with and what it
  // learnt since. The agent hands the union of every capability's list to
  // the qube's init whenever it changes. Default: none.
  virtual std::vector<SupervisedService> Daemons() const { return {}; }
  // What the init reports about the qube's daemons, before each Tick.
  virtual void DaemonStates(const std::vector<ServiceState>& states) { (void)states; }
  // Its section as it stands after its services changed it, for the
  // configuration the agent keeps across restarts; nullopt: no section.
  virtual std::optional<std::string> Section() const { return std::nullopt; }
};

}  // namespace qnet::qube
