// The lab's namespaces and servers for one instance (docs/lab.md):
// a router, web.lab and dns.lab, joined only to each other and to sys-net.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "qnet/base/fd.h"
#include "qnet/base/ip.h"
#include "qnet/base/process.h"
#include "qnet/chain/backend.h"
#include "qnet/chain/instance.h"

namespace qnet::chain {

class LabRuntime final : public Lab {
 public:
  // Creates the router namespace and starts the web and DNS hosts; returns
  // once both servers report ready.
  static Result<std::unique_ptr<LabRuntime>> Start(const Instance& inst, const std::string& lab_bin,
                                                   bool ipv6);
  // The lab a previous qnetd started, detached (its servers are not ours).
  static Result<std::unique_ptr<LabRuntime>> Adopt(const Instance& inst, bool ipv6);
  // Wires sys-net's uplink (uplink0 in sys-net, sysnet0 in the router).
  // sys-net's end stays down until qnetd has verified sys-net's lockdown.
  Status ConnectSysNet(int sysnet_netns_fd);
  Status Connect(RunningQube& net) override { return ConnectSysNet(net.netns_fd()); }

  ~LabRuntime() override;
  // The lab keeps running when qnetd forgets it (qnetd may exit and come back).
  void Detach() override { detached_ = true; }

 private:
  LabRuntime() = default;
  // Starts one host; returns the pipe it reports ready on (WaitReady).
  Result<UniqueFd> StartHost(const std::string& name, std::vector<std::string> args,
                             const IpAddr& addr4, const IpAddr& addr6);

  Instance inst_ = *Instance::Create("qnet");
  bool ipv6_ = false;
  UniqueFd router_fd_;
  std::vector<pid_t> hosts_;
  bool detached_ = false;
};

}  // namespace qnet::chain
