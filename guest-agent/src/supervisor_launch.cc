// The shell around the Supervisor: forking a daemon into the qube, its
// network namespace, and the files through which the agent and the init
// exchange the wanted list and the states.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "qnet/base/fd.h"
#include "qnet/base/log.h"
#include "qnet/base/process.h"
#include "qnet/runtime/namespaces.h"
#include "qnet/runtime/qube_view.h"
#include "supervisor.h"

namespace qnet::agent {
namespace {

// The environment a daemon gets: its own, plus PATH and LANG when absent.
std::vector<std::string> DaemonEnv(const qube::SupervisedService& s) {
  std::vector<std::string> env = s.env;
  auto has = [&](std::string_view key) {
    for (const auto& e : env)
      if (e.starts_with(key) && e.size() > key.size() && e[key.size()] == '=') return true;
    return false;
  };
  if (!has("PATH"))
    env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (!has("LANG")) env.push_back("LANG=C.UTF-8");
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void ChildFail(const char* what) {
  const char* err = std::strerror(errno);
  (void)!::write(2, "qnet-init: service: ", 20);
  (void)!::write(2, what, std::strlen(what));
  (void)!::write(2, ": ", 2);
  (void)!::write(2, err, std::strlen(err));
  (void)!::write(2, "\n", 1);
  ::_exit(126);
}

}  // namespace

Result<pid_t> QubeLauncher::Start(const qube::SupervisedService& s) {
  std::vector<std::string> argv_s = s.argv, env_s = DaemonEnv(s);
  std::vector<char*> argv = CStrings(argv_s), envp = CStrings(env_s);
  UniqueFd netns;
  if (s.own_netns) {
    QNET_ASSIGN_OR_RETURN(netns, OpenFd(qube::ServiceNetnsPath(s.name, dir_), O_RDONLY));
  }
  QNET_ASSIGN_OR_RETURN(UniqueFd devnull, OpenFd("/dev/null", O_RDWR));
  runtime::QubeUser user{.uid = s.uid, .gid = s.gid, .keep_caps = s.uid == 0};
  pid_t pid = ::fork();
  if (pid < 0) return Fail(ErrnoError(fmt::format("service {}: fork", s.name), errno));
  if (pid > 0) return pid;

  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setsid();
  ::dup2(devnull.get(), 0);
  // Entered as the host's root, before the qube's user namespace: the
  // namespace is owned by it, so the daemon's root holds CAP_NET_ADMIN there.
  if (netns && ::setns(netns.get(), CLONE_NEWNET) != 0) ChildFail("setns net");
  if (runtime::EnterQubeUserSide(view_fd_, userns_fd_, user) != 0)
    ChildFail("entering the qube's user side");
  CloseFdsFrom(3);
  ::execve(argv[0], argv.data(), envp.data());
  ChildFail(argv[0]);
}

Status QubeLauncher::CreateNetns(const std::string& name) {
  std::string path = qube::ServiceNetnsPath(name, dir_);
  if (::access(path.c_str(), F_OK) == 0) return OkStatus();  // kept from before
  int ready[2], release[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return Fail(ErrnoError("pipe2", errno));
  UniqueFd ready_r(ready[0]), ready_w(ready[1]);
  if (::pipe2(release, O_CLOEXEC) != 0) return Fail(ErrnoError("pipe2", errno));
  UniqueFd release_r(release[0]), release_w(release[1]);
  pid_t pid = ::fork();
  if (pid < 0) return Fail(ErrnoError("fork", errno));
  if (pid == 0) {
    ready_r.reset();
    release_w.reset();  // so that the parent's close is our EOF
    // Inside the qube's user namespace, so the new network namespace is
    // owned by it (not by the host's).
    char ok = ::setns(userns_fd_, CLONE_NEWUSER) == 0 && ::unshare(CLONE_NEWNET) == 0 ? '1' : '0';
    (void)!::write(ready_w.get(), &ok, 1);
    char c;
    (void)!::read(release_r.get(), &c, 1);
    ::_exit(0);
  }
  ready_w.reset();
  release_r.reset();
  char ok = '0';
  Status pinned = OkStatus();
  if (::read(ready_r.get(), &ok, 1) != 1 || ok != '1')
    pinned =
        Fail(Errc::kInternal, fmt::format("service {}: cannot create its network namespace", name));
  else
    pinned = runtime::PinNamespace(pid, "net", path);
  release_w.reset();
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return pinned;
}

void QubeLauncher::RemoveNetns(const std::string& name) {
  if (Status s = runtime::UnpinNamespace(qube::ServiceNetnsPath(name, dir_)); !s)
    spdlog::warn("service {}: {}", name, s.error().message());
}

void QubeLauncher::Signal(pid_t pid, int sig) { ::kill(pid, sig); }

Result<std::vector<qube::SupervisedService>> ReadWantedServices(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) return std::vector<qube::SupervisedService>{};
  QNET_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return qube::ServicesFromJson(text);
}

Status WriteServiceStates(const std::vector<qube::ServiceState>& states, const std::string& path) {
  return WriteFileAtomic(path, qube::StatesToJson(states), 0600);
}

Status ServiceClient::Publish(const std::vector<qube::SupervisedService>& services) {
  std::string text = qube::ServicesToJson(services);
  if (!last_) {
    // A restarted agent: the init already has what the last one wrote. With
    // nothing written yet, no services is what the init runs already.
    auto old = ReadFile(wanted_);
    last_ = old ? *old : qube::ServicesToJson({});
  }
  if (last_ && *last_ == text) return OkStatus();
  QNET_TRY(WriteFileAtomic(wanted_, text, 0600));
  last_ = text;
  if (::kill(::getppid(), SIGUSR1) != 0) return Fail(ErrnoError("signal the init", errno));
  return OkStatus();
}

std::vector<qube::ServiceState> ServiceClient::States() const {
  auto text = ReadFile(state_);
  if (!text) return {};
  auto states = qube::StatesFromJson(*text);
  return states ? std::move(*states) : std::vector<qube::ServiceState>{};
}

}  // namespace qnet::agent
