#include "qube_runtime.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "links.h"
#include "qnet/base/process.h"
#include "qnet/base/unix_socket.h"
#include "qnet/runtime/containment.h"
#include "qnet/runtime/id_range.h"
#include "qnet/runtime/namespaces.h"
#include "qnet/runtime/qube_view.h"
#include "verify.h"

namespace qnet::chain {
namespace {

constexpr int kControlFd = 3;
constexpr int kListenFd = 4;
constexpr int kAgentExecFd = 5;    // close-on-exec: gone once the init runs
constexpr int kContainmentFd = 6;  // read and closed by the init

std::string AgentSocket(const Instance& inst, const std::string& name) {
  return inst.agents_dir() + "/" + name + ".sock";
}

}  // namespace

runtime::IdRangePaths QubeIdPaths(const Instance& inst, const std::string& qube) {
  runtime::IdRangePaths p;
  p.instance = inst.name();
  p.qube = qube;
  return p;
}

Result<QubeStorage> PrepareQubeStorage(const Instance& inst, const std::string& qube) {
  runtime::IdRangePaths ids = QubeIdPaths(inst, qube);
  QNET_ASSIGN_OR_RETURN(uint32_t slot, runtime::AcquireIdSlot(ids));
  QubeStorage st;
  st.id_base = runtime::SlotBase(slot);
  st.home_dir = ids.qube_dir() + "/home";
  QNET_TRY(MakeDirs(st.home_dir, 0700));
  const uid_t owner = st.id_base + runtime::kQubeUserId;
  if (::chown(st.home_dir.c_str(), owner, owner) != 0)
    return Fail(ErrnoError(fmt::format("chown {}", st.home_dir), errno));
  // Once per instance, kept with the qubes' storage: a copy of the host's
  // /etc costs more than starting a qube.
  st.etc_dir = inst.state_dir() + "/etc";
  QNET_TRY(runtime::AssembleEtc("/etc", st.etc_dir));
  return st;
}

Status RecordNamespace(const Instance& inst, const std::string& netns_name) {
  QNET_ASSIGN_OR_RETURN(UniqueFd fd,
                        OpenFd(inst.namespaces_file(), O_WRONLY | O_CREAT | O_APPEND, 0600));
  return WriteAll(fd.get(), netns_name + "\n");
}

Result<std::unique_ptr<QubeProcess>> QubeProcess::Spawn(const Instance& inst,
                                                        const SpawnParams& p) {
  QNET_TRY(MakeDirs(inst.agents_dir(), 0700));
  QNET_ASSIGN_OR_RETURN(UniqueFd listen_fd, ListenUnix(AgentSocket(inst, p.name)));
  QNET_ASSIGN_OR_RETURN(auto pair, qrexec::Channel::Pair());
  auto& [ours, theirs] = pair;
  if (!p.template_dir.empty()) {
    auto dir = OpenFd(p.template_dir, O_PATH | O_DIRECTORY);
    if (!dir) return Fail(dir.error().Wrap(fmt::format("qube {}: template", p.name)));
  }
  QNET_ASSIGN_OR_RETURN(QubeStorage storage, PrepareQubeStorage(inst, p.name));
  QNET_TRY(RecordNamespace(inst, inst.netns_name(p.name)));

  // Everything the child touches is prepared here: it may not allocate.
  // argv[0] is the program's name only: its host path is no business of
  // the qube (the init runs from an fd, not from that path).
  const std::string program = p.agent_path.substr(p.agent_path.rfind('/') + 1);
  std::vector<std::string> args = {program,
                                   "init",
                                   "--instance",
                                   inst.name(),
                                   "--qube",
                                   p.name,
                                   "--control-fd",
                                   std::to_string(kControlFd),
                                   "--listen-fd",
                                   std::to_string(kListenFd),
                                   "--ipv6",
                                   p.ipv6 ? "routed" : "off",
                                   "--containment-fd",
                                   std::to_string(kContainmentFd)};
  // The host's paths and the qube's id base go through a sealed memfd, not
  // argv: every process in the qube can read the init's command line.
  runtime::Containment containment{.id_base = storage.id_base, .home_dir = storage.home_dir};
  if (p.template_dir.empty())
    containment.etc_dir = storage.etc_dir;
  else
    containment.template_dir = p.template_dir;
  containment.template_writable = p.template_writable;
  QNET_ASSIGN_OR_RETURN(UniqueFd containment_fd, runtime::ContainmentFd(containment));
  const int containment_raw = containment_fd.get();
  if (p.tun) args.insert(args.end(), {"--tun", "on"});
#ifdef QNET_TEST_HOOKS
  if (p.hold_lockdown_seconds > 0) {
    args.push_back("--hold-lockdown");
    args.push_back(std::to_string(p.hold_lockdown_seconds));
  }
  if (p.refresh_floor_seconds > 0) {
    args.push_back("--refresh-floor");
    args.push_back(std::to_string(p.refresh_floor_seconds));
  }
#endif
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  static char kPath[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {kPath, nullptr};
  const int theirs_fd = theirs.fd();
  const int listen_raw = listen_fd.get();
  // The qube's init runs from this fd, opened before the qube exists (the
  // init restarts the agent from /proc/self/exe, the same file): nothing the
  // privileged side executes is looked up by a path inside the qube.
  QNET_ASSIGN_OR_RETURN(UniqueFd agent_fd, OpenFd(p.agent_path, O_PATH));
  const int agent = agent_fd.get();

  runtime::CloneSpec spec;
  spec.flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID;
  spec.child_fn = [&]() -> int {
    ::setsid();
    // Park the fds above the target numbers first so dup2 cannot clobber one.
    int c = ::fcntl(theirs_fd, F_DUPFD, 10);
    int l = ::fcntl(listen_raw, F_DUPFD, 10);
    int a = ::fcntl(agent, F_DUPFD_CLOEXEC, 10);
    int m = ::fcntl(containment_raw, F_DUPFD, 10);
    if (c < 0 || l < 0 || a < 0 || m < 0 || ::dup2(c, kControlFd) < 0 || ::dup2(l, kListenFd) < 0 ||
        ::dup3(a, kAgentExecFd, O_CLOEXEC) < 0 || ::dup2(m, kContainmentFd) < 0)
      return 126;
    CloseFdsFrom(kContainmentFd + 1);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) ::dup2(devnull, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execveat(kAgentExecFd, "", argv.data(), envp, AT_EMPTY_PATH);
    return 127;
  };
  QNET_ASSIGN_OR_RETURN(pid_t pid, runtime::CloneProcess(spec));
  auto q = std::unique_ptr<QubeProcess>(new QubeProcess());
  q->name_ = p.name;
  q->init_pid_ = pid;
  q->control_ = std::make_unique<qrexec::Channel>(std::move(ours));
  auto st = ProcessStartTime(pid);
  q->start_time_ = st ? *st : 0;
  if (Status s = runtime::PinNamespace(pid, "net", inst.netns_path(p.name)); !s) {
    ::kill(pid, SIGKILL);
    return Fail(s.error().Wrap(fmt::format("qube {}", p.name)));
  }
  QNET_ASSIGN_OR_RETURN(q->netns_fd_, OpenFd(inst.netns_path(p.name), O_RDONLY));
  return q;
}

Result<std::unique_ptr<QubeProcess>> QubeProcess::Adopt(const Instance& inst,
                                                        const std::string& name, pid_t init_pid,
                                                        unsigned long long start_time) {
  auto st = ProcessStartTime(init_pid);
  if (!st || *st != start_time)
    return Fail(Errc::kNotFound, fmt::format("qube {}: its init (pid {}) is gone", name, init_pid));
  auto q = std::unique_ptr<QubeProcess>(new QubeProcess());
  q->name_ = name;
  q->init_pid_ = init_pid;
  q->start_time_ = start_time;
  QNET_ASSIGN_OR_RETURN(q->netns_fd_, OpenFd(inst.netns_path(name), O_RDONLY));
  QNET_ASSIGN_OR_RETURN(UniqueFd fd, ConnectUnix(AgentSocket(inst, name)));
  q->control_ = std::make_unique<qrexec::Channel>(std::move(fd));
  return q;
}

bool QubeProcess::alive() const {
  // A dead init of ours stays a zombie (same start time) until reaped.
  ::waitpid(init_pid_, nullptr, WNOHANG);
  auto st = ProcessStartTime(init_pid_);
  return st && *st == start_time_;
}

Result<qrexec::CallResult> QubeProcess::DoCall(const qrexec::CallRequest& request,
                                               std::chrono::milliseconds timeout) {
  std::lock_guard lock(call_mu_);
  return qrexec::Call(*control_, request, timeout);
}

Status QubeProcess::VerifyLockdown() { return VerifyQubeLockdown(netns_fd(), name_); }

Result<DropCounters> QubeProcess::ReadDropCounters() { return chain::ReadDropCounters(netns_fd()); }

Result<std::map<int, uint64_t>> QubeProcess::ReadRuleHits(uint32_t client_id) {
  return chain::ReadRuleHits(netns_fd(), client_id);
}

Status QubeProcess::SetLinkUp(const std::string& ifname) {
  return SetUpInNetns(netns_fd(), ifname);
}

}  // namespace qnet::chain
