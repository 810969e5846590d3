#include "init.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "qnet/base/fd.h"
#include "qnet/base/log.h"
#include "qnet/base/process.h"
#include "qnet/runtime/containment.h"
#include "qnet/runtime/qube_view.h"
#include "supervisor.h"

namespace qnet::agent {
namespace {

Status Mount(const char* src, const char* target, const char* type, unsigned long flags,
             const char* data = nullptr) {
  if (::mount(src, target, type, flags, data) != 0)
    return Fail(ErrnoError(fmt::format("mount {} on {}", type ? type : src, target), errno));
  return OkStatus();
}

bool IsDir(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// A bind mount over a file the host owns: the qube writes its own copy, and
// the host's file is never touched.
Status BindFile(const std::string& source, const char* target, std::string_view content) {
  QNET_TRY(WriteFile(source, content, 0644));
  struct stat st {};
  if (::lstat(target, &st) != 0 || !S_ISREG(st.st_mode)) {
    spdlog::warn("{} is not a regular file; the qube keeps the host's view", target);
    return OkStatus();
  }
  return Mount(source.c_str(), target, nullptr, MS_BIND);
}

// The agent's view: a copy of the host's mounts with the qube's own /proc,
// /sys, /run and /tmp. Only the privileged side lives here.
Status SetUpAgentView(const Options& opts) {
  // /sys/class/net must show this namespace's links, not the host's.
  if (::umount2("/sys", MNT_DETACH) != 0 && errno != EINVAL)
    spdlog::debug("umount /sys: {}", std::strerror(errno));
  QNET_TRY(Mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY));
  // A fresh /run hides /run/qnet (qnetd's socket, other qubes' state) and
  // /run/netns from the agent's own helpers.
  QNET_TRY(Mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m"));
  QNET_TRY(Mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m"));
  if (IsDir("/var/lib/qnet"))
    QNET_TRY(Mount("tmpfs", "/var/lib/qnet", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=1m"));
  QNET_TRY(MakeDirs("/run/qnet-qube", 0755));
  QNET_TRY(BindFile(kQubeResolvConf, "/etc/resolv.conf", ""));
  QNET_TRY(BindFile(kQubeHostname, "/etc/hostname", opts.qube + "\n"));
  if (::sethostname(opts.qube.data(), opts.qube.size()) != 0)
    return Fail(ErrnoError("sethostname", errno));
  // ICMP echo sockets for every id: the qube's users ping without raw
  // sockets (they hold no capability over this network namespace).
  QNET_TRY(WriteFile("/proc/sys/net/ipv4/ping_group_range", "0 2147483647"));
  return OkStatus();
}

Result<UniqueFd> OpenDir(const std::string& path, std::string_view what) {
  if (path.empty()) return Fail(Errc::kInvalidArgument, fmt::format("init: no {} given", what));
  return OpenFd(path, O_PATH | O_DIRECTORY);
}

// The containment qnetd handed over at --containment-fd: read, then closed,
// so neither the fd nor the paths outlive the init's start.
Result<runtime::Containment> TakeContainment(const Options& opts) {
  if (opts.containment_fd < 0)
    return Fail(Errc::kInvalidArgument,
                "init: no --containment-fd (a qube never runs uncontained)");
  auto c = runtime::ReadContainment(opts.containment_fd);
  ::close(opts.containment_fd);
  if (!c) return Fail(c.error().Wrap("init"));
  return c;
}

// The qube's user namespace and view (see qnet/runtime/qube_view.h).
Result<QubeNamespaces> SetUpContainment(const Options& opts) {
  QNET_ASSIGN_OR_RETURN(const runtime::Containment c, TakeContainment(opts));
  // Nothing this qube mounts may propagate back to the host; /proc must show
  // this pid namespace before children are inspected through it.
  QNET_TRY(Mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE));
  QNET_TRY(Mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  // Opened before the agent's view hides /run/qnet and /var/lib/qnet.
  runtime::QubeViewSpec spec;
  spec.id_base = c.id_base;
  QNET_ASSIGN_OR_RETURN(UniqueFd home, OpenDir(c.home_dir, "home"));
  UniqueFd etc, tmpl;
  if (c.template_dir.empty()) {
    QNET_ASSIGN_OR_RETURN(etc, OpenDir(c.etc_dir, "etc"));
  } else {
    QNET_ASSIGN_OR_RETURN(tmpl, OpenDir(c.template_dir, "template"));
  }
  QNET_TRY(SetUpAgentView(opts));
  spec.home_fd = home.get();
  spec.etc_fd = etc.get();
  spec.template_fd = tmpl.get();
  spec.template_writable = c.template_writable;
  spec.run_share = "/run/qnet-qube";
  spec.stage_dir = "/run/qnet-stage";
  spec.tun = opts.tun;
  QNET_TRY(MakeDirs(spec.stage_dir, 0700));
  QubeNamespaces ns;
  ns.id_base = c.id_base;
  QNET_ASSIGN_OR_RETURN(ns.userns, runtime::CreateQubeUserns(c.id_base));
  QNET_ASSIGN_OR_RETURN(ns.view, runtime::BuildQubeView(spec, ns.userns.get()));
  return ns;
}

// The next signal, waiting at most until `due` (then 0).
int WaitSignal(const sigset_t& set, siginfo_t& info,
               std::optional<SupervisorClock::time_point> due) {
  if (!due) return ::sigwaitinfo(&set, &info);
  auto left = std::max(*due - SupervisorClock::now(), SupervisorClock::duration::zero());
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  int sig = ::sigtimedwait(&set, &info, &ts);
  return sig < 0 ? 0 : sig;
}

void ReloadServices(Supervisor& services, const std::string& qube) {
  auto wanted = ReadWantedServices();
  if (!wanted) {
    spdlog::error("qube {}: services: {} (the running ones stay)", qube, wanted.error().message());
    return;
  }
  services.SetWanted(std::move(*wanted), SupervisorClock::now());
}

}  // namespace

int RunInit(const Options& opts, const char* self_exe) {
  auto ns = SetUpContainment(opts);
  if (!ns) {
    spdlog::error("qube {}: init: {}", opts.qube, ns.error().message());
    return 1;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);  // the agent changed the wanted services
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  if (Status s = MakeDirs(qube::kServicesDir, 0700); !s) {
    spdlog::error("qube {}: init: {}", opts.qube, s.error().message());
    return 1;
  }
  QubeLauncher launcher(ns->view.get(), ns->userns.get());
  Supervisor services(launcher, opts.qube);

  auto backoff = std::chrono::milliseconds(50);
  for (;;) {
    auto started = std::chrono::steady_clock::now();
    SpawnOptions so;
    so.argv = opts.ToArgv(self_exe, "agent");
    so.env = std::vector<std::string>{};
    for (char** e = environ; *e != nullptr; ++e) so.env->emplace_back(*e);
    so.env->push_back(fmt::format("{}={}", kIdBaseEnv, ns->id_base));
    // The agent keeps the same fd numbers, so its argv stays valid across restarts.
    so.fds = {0, 1, 2};
    int top = std::max({opts.control_fd, opts.listen_fd, kQubeViewFd});
    so.fds.resize(static_cast<size_t>(top + 1), -1);
    so.fds[kQubeUsernsFd] = ns->userns.get();
    so.fds[kQubeViewFd] = ns->view.get();
    so.fds[static_cast<size_t>(opts.control_fd)] = opts.control_fd;
    if (opts.listen_fd >= 0) so.fds[static_cast<size_t>(opts.listen_fd)] = opts.listen_fd;
    auto child = Spawn(so);
    if (!child) {
      spdlog::error("qube {}: cannot start agent: {}", opts.qube, child.error().message());
      return 1;
    }
    pid_t agent_pid = child->release();
    // Reap everything: PID 1 inherits every orphan in the qube.
    for (;;) {
      siginfo_t info{};
      int sig = WaitSignal(set, info, services.NextDue());
      if (sig == SIGTERM || sig == SIGINT) {
        ::kill(agent_pid, SIGTERM);
        services.StopAll();
        return 0;
      }
      if (sig == SIGUSR1) ReloadServices(services, opts.qube);
      bool agent_exited = false;
      int status = 0;
      pid_t p;
      while ((p = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (p == agent_pid)
          agent_exited = true;
        else
          services.Exited(p, status, SupervisorClock::now());
      }
      services.Run(SupervisorClock::now());
      if (services.TakeChanged()) (void)WriteServiceStates(services.States());
      if (agent_exited) break;
    }
    spdlog::warn("qube {}: agent exited; restarting it (the qube's rules stay in place)",
                 opts.qube);
    if (std::chrono::steady_clock::now() - started > std::chrono::seconds(5))
      backoff = std::chrono::milliseconds(50);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace qnet::agent
