// Supervised services (qnet/qube/supervised_service.h), the init's side.
//
// The qube's init (PID 1) owns a Supervisor: the agent writes the wanted
// list and sends SIGUSR1, the init calls SetWanted; every child that exits
// goes to Exited; Run starts what is due and escalates stops. The policy is
// pure and driven by the caller's clock, so it is unit-tested with a fake
// launcher; QubeLauncher is the thin shell that forks into the qube.
//
// Threading: one thread (the init's loop).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/qube/supervised_service.h"

namespace qnet::agent {

using SupervisorClock = std::chrono::steady_clock;

// When to start a daemon again after it exited: quickly after a long run,
// doubling after each run shorter than `stable`, capped at `max`.
class RestartBackoff {
 public:
  struct Policy {
    std::chrono::milliseconds initial{100};
    std::chrono::milliseconds max{10000};
    std::chrono::milliseconds stable{10000};
  };
  RestartBackoff() : RestartBackoff(Policy{}) {}
  explicit RestartBackoff(Policy p) : policy_(p), next_(p.initial) {}

  // The delay before the next start of a daemon whose run lasted `ran_for`.
  std::chrono::milliseconds AfterExit(SupervisorClock::duration ran_for);

 private:
  Policy policy_;
  std::chrono::milliseconds next_;
};

// What the supervisor changes the world through (a fake in tests).
class ServiceLauncher {
 public:
  virtual ~ServiceLauncher() = default;
  // Starts `s` (its network namespace, when it has one, exists); the pid.
  virtual Result<pid_t> Start(const qube::SupervisedService& s) = 0;
  // The service's network namespace, owned by the qube's user namespace.
  virtual Status CreateNetns(const std::string& name) = 0;
  virtual void RemoveNetns(const std::string& name) = 0;
  virtual void Signal(pid_t pid, int sig) = 0;
};

class Supervisor {
 public:
  using TimePoint = SupervisorClock::time_point;
  // A daemon asked to stop (SIGTERM) is killed after this long.
  static constexpr std::chrono::milliseconds kStopGrace{3000};

  Supervisor(ServiceLauncher& launcher, std::string qube, RestartBackoff::Policy policy = {})
      : launcher_(launcher), qube_(std::move(qube)), policy_(policy) {}

  // The whole wanted list: new services start now, removed ones stop, a
  // changed one stops and starts again with its new description; an
  // unchanged one is left running.
  void SetWanted(std::vector<qube::SupervisedService> wanted, TimePoint now);
  // A child of the init exited (status from waitpid). False when it was
  // not a service.
  bool Exited(pid_t pid, int status, TimePoint now);
  // Starts what is due, kills what did not stop within kStopGrace.
  void Run(TimePoint now);
  // When Run has something to do next; nullopt: nothing scheduled.
  std::optional<TimePoint> NextDue() const;
  // Asks every running service to stop (the qube stops).
  void StopAll();

  std::vector<qube::ServiceState> States() const;
  // True once after anything in States() changed.
  bool TakeChanged() { return std::exchange(changed_, false); }

 private:
  struct Entry {
    std::optional<qube::SupervisedService> want;  // nullopt: leaving
    qube::SupervisedService running;              // what pid runs
    pid_t pid = 0;
    TimePoint started{};
    std::optional<TimePoint> start_at;
    std::optional<TimePoint> kill_at;
    bool stopping = false;  // we asked it to stop: restart without back-off
    bool netns = false;     // its network namespace exists
    RestartBackoff backoff;
    int starts = 0;
    int last_exit = -1;
  };
  void Start(Entry& e, TimePoint now);
  void Stop(Entry& e, TimePoint now);
  // Drops entries that are neither wanted nor running.
  void Collect();

  ServiceLauncher& launcher_;
  std::string qube_;
  RestartBackoff::Policy policy_;
  std::map<std::string, Entry> entries_;
  bool changed_ = false;
};

// The real launcher: forks from the init into the qube's user side.
// `view_fd` and `userns_fd` are the qube's (init.h); network namespaces are
// bind-mounted at qube::ServiceNetnsPath(name, dir).
class QubeLauncher : public ServiceLauncher {
 public:
  QubeLauncher(int view_fd, int userns_fd, std::string dir = qube::kServicesDir)
      : view_fd_(view_fd), userns_fd_(userns_fd), dir_(std::move(dir)) {}
  Result<pid_t> Start(const qube::SupervisedService& s) override;
  Status CreateNetns(const std::string& name) override;
  void RemoveNetns(const std::string& name) override;
  void Signal(pid_t pid, int sig) override;

 private:
  int view_fd_;
  int userns_fd_;
  std::string dir_;
};

// The init's side of the file exchange: reads the wanted list (an absent
// file is an empty list; a bad one is an error and changes nothing) and
// writes the state report.
Result<std::vector<qube::SupervisedService>> ReadWantedServices(
    const std::string& path = qube::kServicesWanted);
Status WriteServiceStates(const std::vector<qube::ServiceState>& states,
                          const std::string& path = qube::kServicesState);

// The agent's side: writes the wanted list when it differs from what was
// last written and tells the init (SIGUSR1 to the parent); reads the states.
class ServiceClient {
 public:
  explicit ServiceClient(std::string wanted = qube::kServicesWanted,
                         std::string state = qube::kServicesState)
      : wanted_(std::move(wanted)), state_(std::move(state)) {}
  Status Publish(const std::vector<qube::SupervisedService>& services);
  std::vector<qube::ServiceState> States() const;

 private:
  std::string wanted_, state_;
  std::optional<std::string> last_;
};

}  // namespace qnet::agent
