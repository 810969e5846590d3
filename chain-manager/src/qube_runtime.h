// A running qube on the netns backend, as qnetd holds it: its init process,
// its pinned network namespace and the control channel to its agent.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>

#include "qnet/base/fd.h"
#include "qnet/chain/instance.h"
#include "qnet/qrexec/channel.h"
#include "qnet/qrexec/service.h"
#include "qnet/runtime/id_range.h"

namespace qnet::chain {

struct SpawnParams {
  std::string name;
  bool ipv6 = false;
  int hold_lockdown_seconds = 0;  // test hook
  int refresh_floor_seconds = 0;  // test hook (0: the agent's own floor)
  std::string agent_path;         // qnet-agent
  std::string template_dir;       // a root tree; empty: the host template
  bool tun = false;               // /dev/net/tun in the qube's view (vpn qubes)
};

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

class QubeProcess {
 public:
  // Clones the qube's namespaces (net, mount, uts, ipc, pid) with
  // `qnet-agent init` as PID 1, pins the network namespace at
  // /run/netns/<instance>-<name> and keeps the control channel.
  static Result<std::unique_ptr<QubeProcess>> Spawn(const Instance& inst, const SpawnParams& p);
  // Re-attaches to a qube a previous qnetd started: checks the init is the
  // same process (start time) and reconnects through the agent's socket.
  static Result<std::unique_ptr<QubeProcess>> Adopt(const Instance& inst, const std::string& name,
                                                    pid_t init_pid, unsigned long long start_time);

  const std::string& name() const { return name_; }
  pid_t init_pid() const { return init_pid_; }
  unsigned long long start_time() const { return start_time_; }
  int netns_fd() const { return netns_fd_.get(); }
  bool alive() const;

  // One call at a time per qube (the channel carries one call at a time).
  Result<qrexec::CallResult> Call(const std::string& service, const std::string& input,
                                  std::chrono::milliseconds timeout,
                                  const std::vector<int>& fds = {}, const std::string& arg = {});
  // Waits until the agent answers qnet.Status (it serves only after lockdown).
  Status WaitForAgent(std::chrono::milliseconds timeout);

 private:
  QubeProcess() = default;
  std::string name_;
  pid_t init_pid_ = -1;
  unsigned long long start_time_ = 0;
  UniqueFd netns_fd_;
  std::unique_ptr<qrexec::Channel> control_;
  std::mutex call_mu_;
};

// What an agent's failed call says, as an error message: its stderr
// without the final newline(s) (the CLI ends every message with its own).
std::string FailureText(const qrexec::CallResult& r);

// Appends a namespace name to the instance's record before it is created.
Status RecordNamespace(const Instance& inst, const std::string& netns_name);

}  // namespace qnet::chain
