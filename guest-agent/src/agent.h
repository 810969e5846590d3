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
#ifdef QNET_TEST_HOOKS
  qrexec::ServiceReply TestReload(qrexec::ServiceRequest& req);  // test builds only
#endif
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
  // How replacing one client's list ended (qnet.Firewall's exit code).
  enum class Applied {
    kApplied = 0,  // the new list is in force
    kRefused = 1,  // it does not compile: nothing changed
    kDropAll = 2,  // the kernel refused it: the client is in drop-all
    kFailed = 3,   // the kernel refused it and the drop-all: the old list holds
  };
  struct ApplyResult {
    Applied outcome = Applied::kApplied;
    Status status;  // the error, unless kApplied
  };
  // One client replaced (c: the config it belongs to); a kernel error puts
  // it in drop-all, with the error kept in fw_errors_ for `list`.
  ApplyResult ApplyClient(const AgentConfig& c, const Client& client);
  // After a restart: what the previous incarnation installed, read from the
  // kernel by name, so stale objects go with the next change.
  void AdoptInstalled();
  Client* FindClient(const std::string& name);
  void ResolveNames(const AgentConfig& c, bool only_new);
  void ResolveOne(const std::string& name, std::chrono::steady_clock::time_point now);
  // Re-resolves names whose refresh time has come. Clients whose rules stay
  // the same (the usual case) get only their host sets refilled, all in one
  // transaction, so hit counts survive; the others are reapplied.
  void RefreshDueNames();

  Options opts_;
  std::optional<netlink::Socket> nf_;
  std::optional<netlink::Socket> rtnl_;
  std::optional<AgentConfig> config_;
  bool lockdown_created_ = false;
  firewall::Resolutions names_;
  std::map<std::string, std::chrono::steady_clock::time_point> refresh_at_;
  // Per client, the objects the kernel holds (InstalledObjects: no rules).
  std::map<uint32_t, firewall::ClientRules> installed_;
  std::map<uint32_t, std::string> fw_errors_;            // clients in drop-all: why
};

}  // namespace qnet::agent
