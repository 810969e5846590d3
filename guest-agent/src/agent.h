// The agent process: lockdown, then qnet's services on the control channel.
#pragma once

#include <optional>

#include "qnet/agent/config.h"
#include "qnet/agent/options.h"
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

  Options opts_;
  std::optional<netlink::Socket> nf_;
  std::optional<netlink::Socket> rtnl_;
  std::optional<AgentConfig> config_;
  bool lockdown_created_ = false;
};

}  // namespace qnet::agent
