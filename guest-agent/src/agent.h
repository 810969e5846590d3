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
  // qnet.FirewallState: one client's notes and apply error, as JSON.
  qrexec::ServiceReply FirewallStateCall(qrexec::ServiceRequest& req);
  // Every client's rules with the netvm rules, one transaction. On a kernel
  // error: the netvm rules with every client in drop-all, then each client
  // in its own transaction, so a client whose list fails stays in drop-all
  // (its error kept for `list`) and the others get their rules. Fails only
  // when the netvm's own rules do not apply.
  Status InstallAll(const AgentConfig& c);
  Result<nft::Batch> FirewallBatch(const AgentConfig& c,
                                   std::map<uint32_t, firewall::ClientRules>* compiled);
  // One client replaced (c: the config it belongs to); on a kernel error it
  // ends in drop-all and the error is kept in fw_errors_.
  Status ApplyClient(const AgentConfig& c, const Client& client);
  // After a restart: what the previous incarnation installed, by name (the
  // compiler names objects deterministically), so stale objects go.
  void AdoptInstalled();
  Client* FindClient(const std::string& name);
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
  std::map<uint32_t, std::string> fw_errors_;            // clients in drop-all: why
};

}  // namespace qnet::agent
