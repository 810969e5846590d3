// qnetd's core: the instance's chain, its qubes and lab, and the admin
// operations the CLI calls (lifecycle and state in daemon.cc, `qnet start`
// and `restart` of one qube in qube_start.cc, `qnet firewall`
// in firewall_admin.cc, `qnet exec` in exec_admin.cc, `qnet graph` renders
// graph.h). Thread-safe: one mutex guards the chain state;
// exec calls hold it only to find the qube.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "program_names.h"
#include "qnet/base/clock.h"
#include "qnet/chain/backend.h"
#include "qnet/chain/instance.h"
#include "qnet/chain/plan.h"
#include "qnet/config/chain_spec.h"
#include "qnet/config/key_registry.h"
#include "qnet/firewall/expiry.h"
#include "qnet/firewall/rule_list.h"

namespace qnet::chain {

// How long qnetd waits for an agent's reply to a call.
inline constexpr std::chrono::milliseconds kCallTimeout = std::chrono::seconds(30);

struct DaemonOptions {
  std::string bin_dir;                        // where qnet-agent and qnet-lab are
  std::string agent_program = kAgentProgram;  // in bin_dir
  // Test hooks, set only by qnetd-test (QNET_TEST_HOOKS builds):
  // QNET_TEST_HOLD_LOCKDOWN="qube:seconds" makes that qube's agent wait
  // before it creates its table; QNET_TEST_REFRESH_FLOOR lowers the agents'
  // hostname refresh floor (0: the product's).
  std::string hold_qube;
  int hold_seconds = 0;
  int refresh_floor_seconds = 0;
};

// `qnet firewall QUBE OP ...` (op: list add del reset apply).
struct FirewallRequest {
  std::string qube;
  std::string op;
  std::vector<std::string> rules;  // add, set: rule texts; del: a number or a rule
  std::optional<size_t> before;    // add --before N
  bool json = false;               // list --json
  bool raw = false;                // list --raw
};

// `qnet dispvm [--netvm Q] [--label L] [--template T] [--firewall R]... -- CMD`.
struct DispvmRequest {
  std::optional<std::string> netvm;   // nullopt: the default netvm; "": none
  std::string label = "red";          // Qubes' disposables are red by default
  std::string template_name;          // "" or "host": the host template
  std::vector<std::string> firewall;  // rules in order; empty: the default (accept)
  std::vector<std::string> argv;
  // `qnet template run`: CMD runs as the qube's root, and the template tree
  // itself is its writable / (nothing else may use the template meanwhile).
  bool root = false;
  bool template_writable = false;
};

struct QubeRow {
  std::string name, state, role, label;
  bool disposable = false;
  std::optional<std::string> netvm;  // none for a qube at the head of the chain
  std::string ip;
  uint32_t id = 0;
  pid_t init_pid = 0;  // 0: not running
  uint64_t drops_input = 0, drops_forward = 0, drops_output = 0;
  bool counters_ok = false;
};

class Daemon {
 public:
  // `clock` (rule expiry) is borrowed and must outlive the daemon; every
  // qube runs on `backend` (chosen in main).
  Daemon(Instance inst, DaemonOptions opts, config::KeyRegistry registry, const Clock& clock,
         std::unique_ptr<QubeBackend> backend);
  ~Daemon();

  // Adopts the qubes of a previous qnetd from the state file.
  Status Restore();
  Result<std::string> Up(const std::string& display_path, const std::string& text);
  // qube empty: everything (then the daemon should exit).
  Result<std::string> Down(const std::string& qube, bool recursive);
  // `qnet start QUBE`: a qube of the chain that is halted (`qnet down QUBE`)
  // or dead (its init gone) comes back: what is left of it is removed, it is
  // spawned and verified locked down, its link to its netvm and to each
  // running client is made again, and the agents at both ends of each link
  // are configured again. Its rules and its netvm's stay closed meanwhile:
  // the old links went with the old qube, the new ones come up only after
  // its lockdown is verified. kNotFound when the chain has no such qube,
  // kFailedPrecondition while it runs or while its netvm does not.
  Result<std::string> Start(const std::string& qube);
  // `qnet restart QUBE`: stops the qube (running or dead) and starts it as
  // Start does; what the qube changed outside its persistent home is gone.
  Result<std::string> Restart(const std::string& qube);
  Result<std::vector<QubeRow>> List();
  Result<std::string> Graph();
  Result<std::string> Save();
  // Runs argv in the qube with the given stdio; returns the exit code.
  Result<int> Exec(const std::string& qube, const std::vector<std::string>& argv, bool root,
                   std::vector<int> stdio);
  // Creates a disposable qube attached to the running chain, runs argv in
  // it with the given stdio, destroys it with its files and id range, and
  // returns the command's exit code. qnetd owns its lifetime: when
  // `lifeline` (the client's end of a pipe) reports hang-up, the command is
  // killed and the qube destroyed (kCancelled). Implemented in
  // dispvm_admin.cc.
  Result<int> Dispvm(const DispvmRequest& req, std::vector<int> stdio, int lifeline);
  // Edits the qube's rule list (kept until the chain goes down, written by
  // Save) and has its netvm's agent apply it before returning. A malformed
  // rule changes nothing; the error names the rule and the field.
  Result<std::string> Firewall(const FirewallRequest& req);
  // Drops expired rules from every list and has the netvms apply the rest
  // (the kernel stopped matching them at their time already). Called about
  // once a second by qnetd's loop.
  void ExpireDue();
  // A tor gateway's state through its agent: op "status" (JSON: gate,
  // control connection, bootstrap phase, the tor counters), "circuits"
  // (JSON list), "newnym" (tor's SIGNAL NEWNYM).
  Result<std::string> Tor(const std::string& qube, const std::string& op);
#ifdef QNET_TEST_HOOKS
  // Reloads the qube's rules `count` times (unsafe: table deleted and re-added,
  // which leaks; the reload test's positive control). Test builds only.
  Result<std::string> TestReload(const std::string& qube, int count, bool unsafe);
#endif
  bool empty();
  // Forgets every running qube without stopping it (qnetd exits, the chain stays).
  void Detach();

 private:
  Status UpLocked(const config::ChainSpec& spec, const std::string& text);
  Status SaveStateLocked();
  Status StoreFirewallLocked(const std::string& qube, const firewall::RuleList& list);
  // A qube whose rules its netvm enforces: the netvm's plan and the
  // qube's entry there (both point into plan_).
  struct FirewallTarget {
    QubePlan* netvm;
    const qube::Client* client;
    firewall::RuleList rules() const;  // its list as qnetd holds it
  };
  Result<FirewallTarget> FirewallTargetLocked(const std::string& qube);
  // Sends the list to the netvm's agent; stores it when the agent kept it.
  Status PushFirewallLocked(const FirewallTarget& target, const firewall::RuleList& next);
  std::shared_ptr<RunningQube> FindQube(const std::string& name);
  Status RemoveQubeLocked(const std::string& name);
  // dispvm_admin.cc: a disposable's start (spawn, lockdown check, link,
  // configuration of its netvm and itself) and its destruction (processes,
  // namespace, netvm entry, files, id range, agent socket).
  Result<std::string> StartDisposableLocked(const DispvmRequest& req);
  Status StartPlannedDisposableLocked(const QubePlan& q);
  void DestroyDisposableLocked(const std::string& name);
  // Sends the netvm's current plan to its agent (its client list changed).
  Status ReconfigureLocked(const std::string& qube);
  SpawnParams SpawnParamsFor(const QubePlan& q) const;
  // Sends the qube's agent its plan's configuration (qnet.Configure).
  Status ConfigureLocked(const QubePlan& q);
  Status StartQubeLocked(const QubePlan& q);
  bool RunningLocked(const std::string& name) const;

  Instance inst_;
  DaemonOptions opts_;
  config::KeyRegistry registry_;
  const Clock& clock_;
  std::mutex mu_;
  std::optional<config::ChainSpec> spec_;
  std::string spec_text_;
  std::optional<Plan> plan_;
  std::unique_ptr<QubeBackend> backend_;
  std::map<std::string, std::shared_ptr<RunningQube>> qubes_;
  std::unique_ptr<Lab> lab_;
  firewall::ExpirySchedule expiry_{clock_};  // ExpireDue's lists and retries
};

}  // namespace qnet::chain
