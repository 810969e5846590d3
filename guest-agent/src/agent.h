// The agent process: lockdown, then qnet's services on the control channel.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "qnet/agent/config.h"
#include "qnet/agent/options.h"
#include "qnet/firewall/compiler.h"
#include "qnet/nft/batch.h"
#include "qnet/netlink/socket.h"
#include "qnet/qrexec/channel.h"
#include "qnet/qrexec/service.h"

namespace qnet::agent {

class Agent {
 public:
  explicit Agent(Options opts) : opts_(std::move(opts)) {}
  // Runs until the process is killed; returns an exit code on a fatal error.
  int Run();

 private:
  Status Start();
  qrexec::ServiceTable BuildServices();
  qrexec::ServiceReply Configure(qrexec::ServiceRequest& req);
  qrexec::ServiceReply StatusCall(qrexec::ServiceRequest& req);
  qrexec::ServiceReply Exec(qrexec::ServiceRequest& req);
  qrexec::ServiceReply TestReload(qrexec::ServiceRequest& req);
  void LoadSavedConfig();
  void SaveConfig();

  // The firewall capability (agent_firewall.cc).
  qrexec::ServiceReply FirewallCall(qrexec::ServiceRequest& req);
  // Every client's rules with the netvm rules, one transaction; on a kernel
  // error every client ends in drop-all and the error comes back.
  Status InstallAll(const AgentConfig& c);
  Result<nft::Batch> FirewallBatch(const AgentConfig& c,
                                   std::map<uint32_t, firewall::ClientRules>* compiled);
  // One client replaced; on a kernel error it ends in drop-all.
  Status ApplyClient(const Client& client);
  void ResolveNames(const AgentConfig& c, bool only_new);
  void ResolveOne(const std::string& name, std::chrono::steady_clock::time_point now);
  // Re-resolves names whose refresh time has come and reapplies their clients.
  void RefreshDueNames();

  Options opts_;
  std::optional<netlink::Socket> nf_;
  std::optional<netlink::Socket> rtnl_;
  std::optional<AgentConfig> config_;
  bool lockdown_created_ = false;
  firewall::Resolutions names_;
  std::map<std::string, std::chrono::steady_clock::time_point> refresh_at_;
  std::map<uint32_t, firewall::ClientRules> installed_;  // what the kernel holds
};

}  // namespace qnet::agent
