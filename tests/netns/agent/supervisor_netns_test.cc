// Supervised services with the real launcher (root): a daemon runs as the
// qube's root in a network namespace of its own that the qube's user
// namespace owns (so it may configure links there and only there); killed
// with SIGKILL it comes back, in the same namespace, with the links it had
// set up still there; removed, it stops and its namespace goes.
//
// The test runs in a private mount namespace of its own (its pins vanish
// with it, also on failure) and uses that as the "view".
#include <gtest/gtest.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "qnet/base/fd.h"
#include "qnet/base/process.h"
#include "qnet/runtime/namespaces.h"
#include "qnet/runtime/qube_view.h"
#include "supervisor.h"

namespace qnet::agent {
namespace {

using namespace std::chrono_literals;

ino_t InodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The host uid of a process (first field of Uid: in /proc/PID/status).
long HostUid(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Uid:", 0) == 0) return std::stol(line.substr(4));
  return -1;
}

// Waits for the service's child and hands its exit to the supervisor.
void ReapInto(Supervisor& sup, pid_t pid) {
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(sup.Exited(pid, status, SupervisorClock::now()));
}

// Drives the supervisor until its service runs (at most 3 s).
pid_t RunUntilStarted(Supervisor& sup) {
  for (int i = 0; i < 300; ++i) {
    sup.Run(SupervisorClock::now());
    auto st = sup.States();
    if (!st.empty() && st[0].pid > 0) return st[0].pid;
    std::this_thread::sleep_for(10ms);
  }
  return 0;
}

class SupervisorNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (user and network namespaces)";
    ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
    dir_ = fmt::format("/tmp/qnet-supervisor-{}", ::getpid());
    ASSERT_TRUE(MakeDirs(dir_, 0700));
    ASSERT_EQ(::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=1m"), 0);
    auto userns = runtime::CreateQubeUserns(id_base_);
    ASSERT_TRUE(userns) << userns.error().message();
    userns_ = std::move(*userns);
    auto view = OpenFd("/proc/self/ns/mnt", O_RDONLY);
    ASSERT_TRUE(view);
    view_ = std::move(*view);
  }
  void TearDown() override {
    for (pid_t p : started_)
      if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0);
    if (!dir_.empty()) {
      ::umount2(dir_.c_str(), MNT_DETACH);
      ::rmdir(dir_.c_str());
    }
  }

  // A qube id range far from any real one (the test maps it only here).
  const uint32_t id_base_ = 3'000'000'000u + static_cast<uint32_t>(::getpid() % 1000) * 65536u;
  std::string dir_;
  UniqueFd userns_, view_;
  std::vector<pid_t> started_;
};

TEST_F(SupervisorNetns, KilledDaemonComesBackInItsOwnNetnsAsTheQubesRoot) {
  QubeLauncher launcher(view_.get(), userns_.get(), dir_);
  Supervisor sup(launcher, "test",
                 {.initial = 50ms, .max = 1000ms, .stable = std::chrono::milliseconds(10000)});
  // The daemon sets its namespace's loopback up (CAP_NET_ADMIN there), then waits.
  qube::SupervisedService svc{.name = "probe",
                              .argv = {"/bin/sh", "-c", "ip link set lo up && exec sleep 60"},
                              .uid = 0,
                              .gid = 0,
                              .own_netns = true};
  sup.SetWanted({svc}, SupervisorClock::now());
  pid_t first = RunUntilStarted(sup);
  ASSERT_GT(first, 0);
  started_.push_back(first);
  const std::string pin = qube::ServiceNetnsPath("probe", dir_);

  // Its network namespace is the pinned one, not ours, and the qube's user
  // namespace owns it.
  ASSERT_NE(InodeOf(pin), 0u);
  std::this_thread::sleep_for(200ms);  // let the shell reach sleep
  EXPECT_EQ(InodeOf(fmt::format("/proc/{}/ns/net", first)), InodeOf(pin));
  EXPECT_NE(InodeOf("/proc/self/ns/net"), InodeOf(pin));
  auto netns = OpenFd(pin, O_RDONLY);
  ASSERT_TRUE(netns);
  int owner = ::ioctl(netns->get(), NS_GET_USERNS);
  ASSERT_GE(owner, 0) << std::strerror(errno);
  UniqueFd owner_fd(owner);
  struct stat a {
  }, b{};
  ::fstat(owner_fd.get(), &a);
  ::fstat(userns_.get(), &b);
  EXPECT_EQ(a.st_ino, b.st_ino) << "the service's netns must belong to the qube's user namespace";
  // It runs as the qube's root (host id id_base), with CAP_NET_ADMIN over its
  // own namespace: its loopback is up.
  EXPECT_EQ(HostUid(first), static_cast<long>(id_base_));
  auto lo = RunCapture({"nsenter", "--net=" + pin, "ip", "-o", "link", "show", "lo"});
  ASSERT_TRUE(lo);
  EXPECT_NE(lo->find("UP"), std::string::npos) << *lo;

  // A mark the agent would leave there (a link), to see it survive restarts.
  ASSERT_TRUE(RunCapture({"nsenter", "--net=" + pin, "ip", "link", "add", "mark0", "type", "veth",
                          "peer", "name", "mark1"}));

  // SIGKILL: back within the back-off, a new pid in the same namespace.
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ReapInto(sup, first);
  EXPECT_EQ(sup.States()[0].last_exit, 128 + SIGKILL);
  auto t = SupervisorClock::now();
  pid_t second = RunUntilStarted(sup);
  started_.push_back(second);
  ASSERT_GT(second, 0);
  EXPECT_NE(second, first);
  EXPECT_LT(SupervisorClock::now() - t, 1s);
  EXPECT_EQ(sup.States()[0].restarts, 1);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(InodeOf(fmt::format("/proc/{}/ns/net", second)), InodeOf(pin));
  auto mark = RunCapture({"nsenter", "--net=" + pin, "ip", "-o", "link", "show", "mark0"});
  EXPECT_TRUE(mark) << "links in the service's namespace outlive a restart";

  // Removed from the list: SIGTERM, gone, not restarted, namespace unpinned.
  sup.SetWanted({}, SupervisorClock::now());
  ReapInto(sup, second);
  sup.Run(SupervisorClock::now() + 5s);
  EXPECT_TRUE(sup.States().empty());
  EXPECT_FALSE(ProcessAlive(second));
  EXPECT_EQ(InodeOf(pin), 0u) << "the namespace's pin is removed with the service";
}

}  // namespace
}  // namespace qnet::agent
