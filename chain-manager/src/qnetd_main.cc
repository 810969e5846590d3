// qnetd: the dom0-like daemon of one qnet instance. It builds the chain,
// holds a control channel to every qube's agent, and serves the CLI on a
// root-only Unix socket. Killing it leaves every qube and rule in place;
// a new qnetd adopts them from the state file.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <filesystem>
#include <thread>

#include "admin_services.h"
#include "daemon.h"
#include "qnet/base/log.h"
#include "qnet/base/unix_socket.h"
#include "registry.h"

namespace qnet::chain {
namespace {

bool PeerIsRoot(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  return ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == 0;
}

std::string BinDir() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("/usr/local/bin") : self.parent_path().string();
}

#ifdef QNET_TEST_HOOKS
// qnetd-test only: the environment of the test that started it.
void ParseTestHooks(DaemonOptions& o) {
  if (const char* hook = std::getenv("QNET_TEST_HOLD_LOCKDOWN")) {
    std::string h(hook);
    if (auto colon = h.find(':'); colon != std::string::npos) {
      o.hold_qube = h.substr(0, colon);
      o.hold_seconds = std::clamp(std::atoi(h.c_str() + colon + 1), 0, 60);
    }
  }
  if (const char* floor = std::getenv("QNET_TEST_REFRESH_FLOOR"))
    o.refresh_floor_seconds = std::clamp(std::atoi(floor), 0, 60);
  // The shipped agent, to prove that it refuses the hooks.
  if (const char* agent = std::getenv("QNET_TEST_AGENT");
      agent && std::string(agent) == "qnet-agent")
    o.agent_program = agent;
}
#endif

int Serve(Daemon& daemon, int listen_fd) {
  std::atomic<bool> exit_requested{false};
  qrexec::ServiceTable services = AdminServices(daemon, exit_requested);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC));
  std::atomic<int> active{0};
  // Expired firewall rules leave their lists at their time, off the accept loop.
  std::jthread expiry([&](std::stop_token stop) {
    while (!stop.stop_requested() && !exit_requested) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      if (!stop.stop_requested()) daemon.ExpireDue();
    }
  });
  while (!exit_requested) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {sfd.get(), POLLIN, 0}};
    int n = ::poll(fds, 2, 200);
    if (n < 0 && errno != EINTR) return 1;
    if (fds[1].revents & POLLIN) {
      spdlog::info("signal: exiting; the chain stays up (a new qnetd adopts it)");
      daemon.Detach();
      return 0;
    }
    if (!(fds[0].revents & POLLIN)) continue;
    int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    UniqueFd conn(c);
    if (!PeerIsRoot(conn.get())) {
      spdlog::warn("refused a non-root client");
      continue;
    }
    ++active;
    std::thread([&, conn = std::move(conn)]() mutable {
      qrexec::Channel ch(std::move(conn));
      if (Status s = qrexec::ServeOne(ch, services, std::chrono::seconds(30)); !s)
        spdlog::debug("client: {}", s.error().message());
      --active;
    }).detach();
  }
  // Let the reply to `down --all` reach the CLI before the socket goes away.
  for (int i = 0; i < 500 && active > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return 0;
}

}  // namespace
}  // namespace qnet::chain

int main(int argc, char** argv) {
  using namespace qnet;
  using namespace qnet::chain;
  CLI::App app{"qnetd: the qnet daemon (one per instance)"};
  std::string instance_flag, log_level = "info", backend_name(kDefaultBackend);
  app.add_option("--instance", instance_flag, "instance name (default $QNET_INSTANCE or qnet)");
  app.add_option("--backend", backend_name, "where qubes run (netns)");
  app.add_option("--log-level", log_level, "debug|info|warn|error");
  CLI11_PARSE(app, argc, argv);
  InitLogging("qnetd", log_level);
  if (::geteuid() != 0) {
    spdlog::error("qnetd must run as root");
    return 1;
  }
  auto inst = Instance::FromFlagOrEnv(instance_flag);
  if (!inst) {
    spdlog::error("{}", inst.error().message());
    return 2;
  }
  auto backend = MakeBackend(backend_name, *inst);
  if (!backend) {
    spdlog::error("{}", backend.error().message());
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  if (Status s = MakeDirs(inst->runtime_dir(), 0700); !s) {
    spdlog::error("{}", s.error().message());
    return 1;
  }
  ::chmod(inst->runtime_dir().c_str(), 0700);
  auto lock = OpenFd(inst->lock_path(), O_RDWR | O_CREAT, 0600);
  if (!lock || ::flock(lock->get(), LOCK_EX | LOCK_NB) != 0) {
    spdlog::info("qnetd for instance {} is already running", inst->name());
    return 0;
  }
  DaemonOptions opts{.bin_dir = BinDir()};
#ifdef QNET_TEST_HOOKS
  ParseTestHooks(opts);
#endif
  const SystemClock clock;
  Daemon daemon(*inst, opts, BuildKeyRegistry(), clock, std::move(*backend));
  if (Status s = daemon.Restore(); !s) spdlog::warn("restore: {}", s.error().message());
  auto listen_fd = ListenUnix(inst->socket_path(), 0600);
  if (!listen_fd) {
    spdlog::error("{}", listen_fd.error().message());
    return 1;
  }
  spdlog::info("qnetd {} serving {}", inst->name(), inst->socket_path());
  int rc = Serve(daemon, listen_fd->get());
  if (daemon.empty()) {
    // Nothing left to keep: leave nothing under the runtime directory either.
    ::unlink(inst->socket_path().c_str());
    ::unlink(inst->lock_path().c_str());
    ::rmdir(inst->runtime_dir().c_str());
  }
  return rc;
}
