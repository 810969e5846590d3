// The runtime backend: what qnetd needs from whatever a qube runs on.
//
// qnetd plans a chain (plan.h) and drives its lifecycle; a QubeBackend
// turns that into running qubes. qnetd holds one `std::unique_ptr<QubeBackend>`
// chosen in its `main` (MakeBackend) and never names a backend's types, so
// the lifecycle logic runs unchanged against the netns backend, a Qubes
// backend, or a fake in unit tests.
//
// Each call says below what the netns backend (the one built here) does;
// what a Qubes backend would map it to (none is written yet) is:
//   Spawn            qvm-create from the template + qvm-start; the agent is a
//                    service of the qube, reached over qrexec (vchan)
//   Adopt            qvm-check --running + a new qrexec connection
//   Call             qrexec-client -d QUBE over vchan, the same wire format
//   netns_fd         -1: dom0 holds no handle on a qube's network namespace
//   VerifyLockdown,  the agent's table dump over qrexec (the agent's word,
//   Read*            weaker than the netns backend's own netlink read-back)
//   Connect          qvm-prefs CLIENT netvm NETVM (libxl creates vifN.0)
//   SetLinkUp        a call to the qube's agent
//   StartLab,        none: sys-net's uplink is a real NIC (qvm-pci attach)
//   AdoptLab
//   Remove           qvm-kill
//   CleanupInstance  qvm-kill + qvm-remove of every qube of the instance
//   RemoveStorage    qvm-remove (the private volume)
//
// Thread-safety: a QubeBackend is called with qnetd's chain mutex held (one
// call at a time). A RunningQube's accessors may be called from any thread;
// Call serializes calls per qube.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/chain/instance.h"
#include "qnet/qrexec/service.h"

namespace qnet::chain {

// What a qube is started from (the plan's view of one qube).
struct SpawnParams {
  std::string name;
  bool ipv6 = false;
  int hold_lockdown_seconds = 0;  // test hook
  int refresh_floor_seconds = 0;  // test hook (0: the agent's own floor)
  std::string agent_path;         // qnet-agent
  std::string template_dir;       // a root tree; empty: the host template
  // A disposable (Qubes' DispVM): it starts with no storage (whatever a
  // crash left is discarded first), and Remove and CleanupInstance discard
  // its storage with it. netns: its state directory is marked so.
  bool disposable = false;
  // The template tree itself is the qube's writable / (a template qube,
  // `qnet template run`): its changes persist in the tree.
  bool template_writable = false;
  bool tun = false;  // /dev/net/tun in the qube's view (vpn qubes)
};

// How a backend finds a running qube again after qnetd restarts; kept in
// the instance's state file. netns: the init's pid and its start time (so a
// recycled pid is never mistaken for the qube). Qubes: unused (0).
struct QubeRecord {
  pid_t pid = 0;
  unsigned long long start_time = 0;
};

// Packets counted by the final drop of each filter base chain (0 for a
// counter that is missing).
struct DropCounters {
  uint64_t input = 0, forward = 0, output = 0;
};

// One running (or dead, not yet removed) qube as its backend holds it.
class RunningQube {
 public:
  virtual ~RunningQube() = default;
  RunningQube(const RunningQube&) = delete;
  RunningQube& operator=(const RunningQube&) = delete;

  virtual const std::string& name() const = 0;
  virtual QubeRecord record() const = 0;
  // False once the qube's init (its whole runtime) is gone.
  virtual bool alive() const = 0;
  // An fd of the qube's network namespace, valid while this object lives;
  // -1 on a backend that has none (the lab's wiring needs one).
  virtual int netns_fd() const = 0;

  // Calls a service of the qube's agent (qrexec framing). One call at a
  // time per qube: concurrent callers wait. A non-zero exit code is a
  // result; errors are the transport's, wrapped with the qube's name.
  Result<qrexec::CallResult> Call(const std::string& service, const std::string& input,
                                  std::chrono::milliseconds timeout,
                                  const std::vector<int>& fds = {}, const std::string& arg = {});
  // Waits until the agent answers qnet.Status (it serves only after its
  // lockdown is in place).
  Status WaitForAgent(std::chrono::milliseconds timeout);

  // qnetd's own check of the qube's table (contract 1: the agent's word is
  // not enough): OK when its filter base chains are the lockdown's, each
  // ending in its named counter and drop. The error names the qube.
  virtual Status VerifyLockdown() = 0;
  virtual Result<DropCounters> ReadDropCounters() = 0;
  // Packets that matched each rule ("rule N") of a client's chains in this
  // netvm's table, by rule number.
  virtual Result<std::map<int, uint64_t>> ReadRuleHits(uint32_t client_id) = 0;
  // Sets one of the qube's links up (they are created down).
  virtual Status SetLinkUp(const std::string& ifname) = 0;

 protected:
  RunningQube() = default;
  virtual Result<qrexec::CallResult> DoCall(const qrexec::CallRequest& request,
                                            std::chrono::milliseconds timeout) = 0;
};

// The simulated internet a chain with `[lab]` reaches (docs/lab.md), as
// the backend runs it.
class Lab {
 public:
  virtual ~Lab() = default;
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;
  // Wires the net qube's uplink to the lab; the net qube's end stays down
  // until qnetd has verified its lockdown (RunningQube::SetLinkUp).
  virtual Status Connect(RunningQube& net) = 0;
  // The lab keeps running when qnetd forgets it (qnetd may exit and come
  // back); otherwise destroying the Lab stops it.
  virtual void Detach() = 0;

 protected:
  Lab() = default;
};

// What CleanupInstance removed, and what it could not.
struct CleanupReport {
  int namespaces_removed = 0;
  int processes_killed = 0;
  std::vector<std::string> errors;
};

class QubeBackend {
 public:
  virtual ~QubeBackend() = default;
  QubeBackend(const QubeBackend&) = delete;
  QubeBackend& operator=(const QubeBackend&) = delete;

  // "netns", "qubes", "fake".
  virtual std::string_view name() const = 0;

  // Starts a qube with nothing but its agent, which locks the qube down on
  // its own (contract 1); its links do not exist yet. Records what cleanup
  // needs before creating anything. On error nothing of the qube runs (the
  // caller's CleanupInstance removes what was recorded). Whatever is left of
  // a previous run of the same qube (a dead qube's pinned namespace, which
  // kept its rules) is removed first. netns: clone(2)
  // of net, mount, uts, ipc and pid namespaces with `qnet-agent init` as
  // PID 1, the network namespace pinned, a socket pair to the agent.
  virtual Result<std::unique_ptr<RunningQube>> Spawn(const SpawnParams& params) = 0;
  // Re-attaches to a qube a previous qnetd started. kNotFound when it is
  // gone (or another process now has its pid). netns: checks the init's
  // start time, reconnects to the agent's listening socket.
  virtual Result<std::unique_ptr<RunningQube>> Adopt(const std::string& name,
                                                     const QubeRecord& record) = 0;
  // Creates the link between a client and its netvm: `vif` in the netvm
  // (MAC fe:ff:ff:ff:ff:ff, as Qubes' vifs) and `client_ifname` in the
  // client, both down. netns: a veth made inside the netvm's namespace
  // with its peer created in the client's (never in the root namespace).
  virtual Status Connect(RunningQube& netvm, RunningQube& client, const std::string& vif,
                         const std::string& client_ifname) = 0;
  // Starts the instance's lab (`lab_bin`: qnet-lab); returns once its
  // servers are ready.
  virtual Result<std::unique_ptr<Lab>> StartLab(const std::string& lab_bin, bool ipv6) = 0;
  // Re-attaches to the lab a previous qnetd started (to wire a restarted
  // net qube); the Lab comes back detached (destroying it stops nothing).
  virtual Result<std::unique_ptr<Lab>> AdoptLab(bool ipv6) = 0;
  // Stops the qube and destroys its runtime: every process in it, its
  // namespaces, its links with them, and its rules last. Idempotent (a dead
  // qube is removed as well). Its persistent storage stays. netns: SIGKILL
  // to every process in its network namespace, then the pin is removed.
  virtual Status Remove(RunningQube& qube) = 0;
  // Tears the whole instance down to nothing from its records, with or
  // without the qubes' handles (a crashed qnetd's instance too); safe to
  // run twice. keep_daemon_files: qnetd calling this keeps its own lock,
  // socket and log until it exits.
  virtual CleanupReport CleanupInstance(bool keep_daemon_files) = 0;
  // `qnet remove QUBE`: deletes a stopped qube's persistent storage.
  // kInvalidArgument for a bad name, kFailedPrecondition while the qube
  // runs, kNotFound if it has none.
  virtual Status RemoveStorage(const std::string& qube) = 0;

 protected:
  QubeBackend() = default;
};

// The backend qnetd and the CLI use unless told otherwise.
inline constexpr std::string_view kDefaultBackend = "netns";

// The backend named `name` for the instance ("netns"; kInvalidArgument
// naming the known backends otherwise).
Result<std::unique_ptr<QubeBackend>> MakeBackend(std::string_view name, const Instance& inst);

// What an agent's failed call says, as an error message: its stderr
// without the final newline(s) (the CLI ends every message with its own).
std::string FailureText(const qrexec::CallResult& r);

}  // namespace qnet::chain
