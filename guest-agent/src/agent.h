// The agent process: lockdown, then qnet's services on the control channel,
// with the role's capabilities (capability_table.h) hosted by a
// CapabilityHost. The agent knows no capability by name.
#pragma once

#include <optional>
#include <string>

#include "capability_host.h"
#include "qnet/agent/options.h"
#include "qnet/base/clock.h"
#include "qnet/firewall/capability.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/committer.h"
#include "qnet/qrexec/channel.h"
#include "qnet/qrexec/service.h"
#include "qnet/qube/agent_config.h"
#include "supervisor.h"

namespace qnet::agent {

// What the agent changes the world through, built by main (tests script
// them). Borrowed: they must outlive the agent.
struct AgentDeps {
  netlink::Socket& nf;  // NETLINK_NETFILTER in the qube: reads the table
  nft::Committer& nft;  // sends every rule change
  firewall::Resolver resolve;
  const Clock& clock;
  // Whether this kernel can make WireGuard links (probed by main).
  bool kernel_wireguard = false;
};

class Agent {
 public:
  Agent(Options opts, AgentDeps deps) : opts_(std::move(opts)), deps_(std::move(deps)) {}
  // Runs until the process is killed; returns an exit code on a fatal error.
  int Run();

 private:
  Status Start();
  qrexec::ServiceTable BuildServices();
  qrexec::ServiceReply Configure(qrexec::ServiceRequest& req);
  qrexec::ServiceReply StatusCall(qrexec::ServiceRequest& req);
  qrexec::ServiceReply Exec(qrexec::ServiceRequest& req);
#ifdef QNET_TEST_HOOKS
  qrexec::ServiceReply TestReload(qrexec::ServiceRequest& req);  // test builds only
#endif
  void LoadSavedConfig();
  void SaveConfig();
  CapabilityHost MakeHost(qube::Role role);
  // Hands the capabilities' daemons to the init when they changed.
  void PublishDaemons();

  Options opts_;
  AgentDeps deps_;
  std::optional<netlink::Socket> rtnl_;
  std::optional<qube::AgentConfig> config_;
  std::optional<CapabilityHost> host_;  // the role's, once configured
  ServiceClient daemons_;
  // The host's services join the table once it exists; the table is
  // rebuilt between calls, never under a running handler.
  bool services_stale_ = false;
  bool lockdown_created_ = false;
};

}  // namespace qnet::agent
