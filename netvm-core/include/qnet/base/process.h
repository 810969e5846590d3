// Child processes: spawn with fds and environment, wait, signal.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"

namespace qnet {

// A child process owned by this object: the destructor kills (SIGKILL) and
// reaps it if it is still running. Movable, not copyable.
class ChildProcess {
 public:
  ChildProcess() = default;
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
  ChildProcess& operator=(ChildProcess&& o) noexcept;

  pid_t pid() const { return pid_; }
  bool valid() const { return pid_ > 0; }
  // Forgets the child without killing it.
  pid_t release() { return std::exchange(pid_, -1); }

  // Waits for exit; returns the exit code, or 128+signal.
  Result<int> Wait();
  // Waits at most `timeout`; kTimeout if still running.
  Result<int> WaitFor(std::chrono::milliseconds timeout);
  Status Kill(int sig);

 private:
  pid_t pid_ = -1;
};

struct SpawnOptions {
  std::vector<std::string> argv;
  // fd mapping: child fd i = parent fd fds[i] (for i=0..n-1); -1 = /dev/null.
  std::vector<int> fds = {0, 1, 2};
  std::optional<std::vector<std::string>> env;  // nullopt: inherit
  bool new_session = false;
};

// fork+exec. The child closes every fd beyond fds.size().
Result<ChildProcess> Spawn(const SpawnOptions& opts);

// Runs a command and returns its stdout; error if the exit code is not 0.
Result<std::string> RunCapture(const std::vector<std::string>& argv);

// Closes every fd >= first in the calling process (for a child after fork).
void CloseFdsFrom(int first);

// True if pid exists (kill(pid, 0)).
bool ProcessAlive(pid_t pid);
// The start time of pid (field 22 of /proc/pid/stat), to tell a reused pid.
Result<unsigned long long> ProcessStartTime(pid_t pid);

}  // namespace qnet
