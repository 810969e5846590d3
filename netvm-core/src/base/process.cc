#include "qnet/base/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace qnet {
namespace {

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    (void)Wait();
  }
}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      (void)Wait();
    }
    pid_ = std::exchange(o.pid_, -1);
  }
  return *this;
}

Result<int> ChildProcess::Wait() {
  if (pid_ <= 0) return Fail(Errc::kFailedPrecondition, "wait: no child");
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Fail(ErrnoError("waitpid", errno));
    break;
  }
  pid_ = -1;
  return DecodeStatus(status);
}

Result<int> ChildProcess::WaitFor(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return Fail(Errc::kFailedPrecondition, "wait: no child");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r < 0 && errno != EINTR) return Fail(ErrnoError("waitpid", errno));
    if (r == pid_) {
      pid_ = -1;
      return DecodeStatus(status);
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return Fail(Errc::kTimeout, fmt::format("process {} still running", pid_));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status ChildProcess::Kill(int sig) {
  if (pid_ <= 0) return OkStatus();
  if (::kill(pid_, sig) != 0 && errno != ESRCH) return Fail(ErrnoError("kill", errno));
  return OkStatus();
}

void CloseFdsFrom(int first) {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, first, ~0U, 0) == 0) return;
#endif
  for (int fd = first; fd < 65536; ++fd) ::close(fd);
}

Result<ChildProcess> Spawn(const SpawnOptions& opts) {
  if (opts.argv.empty()) return Fail(Errc::kInvalidArgument, "spawn: empty argv");
  std::vector<char*> argv;
  for (const auto& a : opts.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (opts.env) {
    for (const auto& e : *opts.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  pid_t pid = ::fork();
  if (pid < 0) return Fail(ErrnoError("fork", errno));
  if (pid == 0) {
    if (opts.new_session) ::setsid();
    // Move every source fd above the target range first so dup2 cannot clobber one.
    const int n = static_cast<int>(opts.fds.size());
    std::vector<int> moved(opts.fds.size(), -1);
    for (int i = 0; i < n; ++i) {
      int src = opts.fds[i];
      if (src < 0) src = ::open("/dev/null", O_RDWR);
      moved[i] = ::fcntl(src, F_DUPFD, n + 3);
    }
    for (int i = 0; i < n; ++i) ::dup2(moved[i], i);
    CloseFdsFrom(n);
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    if (opts.env)
      ::execvpe(argv[0], argv.data(), envp.data());
    else
      ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return ChildProcess(pid);
}

Result<std::string> RunCapture(const std::vector<std::string>& argv) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Fail(ErrnoError("pipe", errno));
  UniqueFd rd(p[0]), wr(p[1]);
  auto child = Spawn({.argv = argv, .fds = {-1, wr.get(), 2}});
  wr.reset();
  if (!child) return Fail(child.error());
  QNET_ASSIGN_OR_RETURN(std::string out, ReadAll(rd.get()));
  QNET_ASSIGN_OR_RETURN(int code, child->Wait());
  if (code != 0) return Fail(Errc::kIo, fmt::format("{} exited with {}", argv[0], code));
  return out;
}

bool ProcessAlive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

Result<unsigned long long> ProcessStartTime(pid_t pid) {
  QNET_ASSIGN_OR_RETURN(std::string stat, ReadFile(fmt::format("/proc/{}/stat", pid)));
  auto close = stat.rfind(')');
  if (close == std::string::npos) return Fail(Errc::kProtocol, "bad /proc stat");
  // Fields after "comm)": state is field 3; starttime is field 22.
  size_t pos = close + 2;
  for (int field = 3; field < 22; ++field) {
    pos = stat.find(' ', pos);
    if (pos == std::string::npos) return Fail(Errc::kProtocol, "bad /proc stat");
    ++pos;
  }
  return std::stoull(stat.substr(pos));
}

}  // namespace qnet
