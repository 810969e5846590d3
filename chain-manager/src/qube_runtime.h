// A running qube on the netns backend (the RunningQube of backend.h), as
// qnetd holds it: its init process, its pinned network namespace and the
// control channel to its agent.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>

#include "qnet/base/fd.h"
#include "qnet/chain/backend.h"
#include "qnet/chain/instance.h"
#include "qnet/qrexec/channel.h"
#include "qnet/qrexec/service.h"
#include "qnet/runtime/id_range.h"

namespace qnet::chain {

// Where a qube's files and ids come from: its sticky host id range, its
// persistent home (owned by the range's user 1000) and the instance's
// assembled /etc.
struct QubeStorage {
  uint32_t id_base = 0;
  std::string home_dir;
  std::string etc_dir;
};

runtime::IdRangePaths QubeIdPaths(const Instance& inst, const std::string& qube);
// Takes (or finds again) the qube's id range, creates its home, assembles
// the instance's /etc once.
Result<QubeStorage> PrepareQubeStorage(const Instance& inst, const std::string& qube);

class QubeProcess final : public RunningQube {
 public:
  // Clones the qube's namespaces (net, mount, uts, ipc, pid) with
  // `qnet-agent init` as PID 1, pins the network namespace at
  // /run/netns/<instance>-<name> and keeps the control channel.
  static Result<std::unique_ptr<QubeProcess>> Spawn(const Instance& inst, const SpawnParams& p);
  // Re-attaches to a qube a previous qnetd started: checks the init is the
  // same process (start time) and reconnects through the agent's socket.
  static Result<std::unique_ptr<QubeProcess>> Adopt(const Instance& inst, const std::string& name,
                                                    pid_t init_pid, unsigned long long start_time);

  const std::string& name() const override { return name_; }
  QubeRecord record() const override { return {init_pid_, start_time_}; }
  pid_t init_pid() const { return init_pid_; }
  int netns_fd() const override { return netns_fd_.get(); }
  bool alive() const override;

  Status VerifyLockdown() override;
  Result<DropCounters> ReadDropCounters() override;
  Result<std::map<int, uint64_t>> ReadRuleHits(uint32_t client_id) override;
  Status SetLinkUp(const std::string& ifname) override;

 private:
  QubeProcess() = default;
  Result<qrexec::CallResult> DoCall(const qrexec::CallRequest& request,
                                    std::chrono::milliseconds timeout) override;

  std::string name_;
  pid_t init_pid_ = -1;
  unsigned long long start_time_ = 0;
  UniqueFd netns_fd_;
  std::unique_ptr<qrexec::Channel> control_;
  std::mutex call_mu_;
};

// Appends a namespace name to the instance's record before it is created.
Status RecordNamespace(const Instance& inst, const std::string& netns_name);

}  // namespace qnet::chain
