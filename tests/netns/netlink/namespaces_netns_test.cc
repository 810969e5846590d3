// Namespace primitives: pins, bare network namespaces, clone(2) into new
// namespaces, joining them, and finding their processes.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "netns_fixture.h"
#include "qnet/base/process.h"
#include "qnet/netlink/link.h"
#include "qnet/runtime/namespaces.h"

namespace qnet::testing {
namespace {

using runtime::CloneProcess;
using runtime::CloneSpec;
using runtime::NamespaceInode;

class NamespacesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates namespaces)";
  }
  void TearDown() override {
    for (const std::string& p : pins_) (void)runtime::UnpinNamespace(p);
  }
  // A pin path removed at the end of the test, also on failure.
  std::string PinPath(std::string_view suffix) {
    pins_.push_back(TestNetnsPath(suffix));
    return pins_.back();
  }
  std::vector<std::string> pins_;
};

struct Pipe {
  UniqueFd read, write;
  static Pipe Make() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  }
};

// Reads exactly sizeof(T) within 5 s.
template <typename T>
bool ReadWithin(int fd, T* out) {
  pollfd p{.fd = fd, .events = POLLIN};
  if (::poll(&p, 1, 5000) != 1) return false;
  return ::read(fd, out, sizeof(T)) == static_cast<ssize_t>(sizeof(T));
}

ino_t InodeOf(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 ? st.st_ino : 0;
}

bool RunNetnsIsSharedMount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // Field 5 is the mount point; optional fields follow field 6.
    if (line.find(" /run/netns ") != std::string::npos &&
        line.find(" shared:") != std::string::npos)
      return true;
  }
  return false;
}

TEST_F(NamespacesTest, CreatePinnedNetns_FreshNamespaceWithOnlyLoopback) {
  std::string path = PinPath("bare");
  auto fd = runtime::CreatePinnedNetns(path);
  ASSERT_TRUE(fd.has_value()) << fd.error().message();
  EXPECT_TRUE(RunNetnsIsSharedMount())
      << "/run/netns must be a shared mount (as iproute2 makes it)";

  ino_t ino = *NamespaceInode(path);
  EXPECT_EQ(*runtime::NamespaceInodeOfFd(fd->get()), ino);
  EXPECT_NE(ino, *NamespaceInode("/proc/thread-self/ns/net"));
  EXPECT_TRUE(runtime::PidsInNetns(ino)->empty()) << "no process lives in it";

  auto sock = netlink::Socket::OpenInNetns(NETLINK_ROUTE, fd->get());
  ASSERT_TRUE(sock.has_value());
  auto links = netlink::ListLinks(*sock);
  ASSERT_TRUE(links.has_value());
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ(links->front().name, "lo");

  ASSERT_TRUE(runtime::UnpinNamespace(path).ok());
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "pin file removed";
  EXPECT_TRUE(runtime::UnpinNamespace(path).ok()) << "idempotent";
  // The namespace lives on while our fd holds it.
  EXPECT_EQ(*runtime::NamespaceInodeOfFd(fd->get()), ino);
}

TEST_F(NamespacesTest, PinNamespace_RefusesAnExistingPathAndLeavesItAlone) {
  std::string path = PinPath("pin");
  auto fd = runtime::CreatePinnedNetns(path);
  ASSERT_TRUE(fd.has_value()) << fd.error().message();
  ino_t ino = *NamespaceInode(path);
  Status again = runtime::PinNamespace(::getpid(), "net", path);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(*NamespaceInode(path), ino);

  std::string own = PinPath("own");
  ASSERT_TRUE(runtime::PinNamespace(::getpid(), "net", own).ok());
  EXPECT_EQ(*NamespaceInode(own), *NamespaceInode("/proc/self/ns/net"));
  EXPECT_FALSE(runtime::PinNamespace(::getpid(), "net", "relative/path").ok());
}

TEST_F(NamespacesTest, OpenNamespace_ValidatesTypeAndPid) {
  EXPECT_EQ(runtime::OpenNamespace(::getpid(), "bogus").error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(runtime::OpenNamespace(::getpid(), "../../etc/passwd").error().code(),
            Errc::kInvalidArgument);
  auto net = runtime::OpenNamespace(::getpid(), "net");
  ASSERT_TRUE(net.has_value());
  EXPECT_EQ(*runtime::NamespaceInodeOfFd(net->get()), *NamespaceInode("/proc/self/ns/net"));
  // pid_max is at most 2^22: this pid cannot exist.
  EXPECT_EQ(runtime::OpenNamespace(1 << 23, "net").error().code(), Errc::kNotFound);
}

TEST_F(NamespacesTest, CloneProcess_RejectsNonNamespaceFlags) {
  EXPECT_EQ(CloneProcess({.flags = CLONE_VM, .child_fn = [] { return 0; }}).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(CloneProcess({.flags = CLONE_NEWNET}).error().code(), Errc::kInvalidArgument);
}

struct ChildReport {
  pid_t pid;
  ino_t netns;
  ino_t utsns;
  char hostname[64];
  char cwd[64];
};

// Fills a report with async-signal-safe calls only (as a child must).
void FillReport(ChildReport* r) {
  std::memset(r, 0, sizeof *r);
  r->pid = ::getpid();
  r->netns = InodeOf("/proc/thread-self/ns/net");
  r->utsns = InodeOf("/proc/thread-self/ns/uts");
  ::gethostname(r->hostname, sizeof r->hostname - 1);
  if (::getcwd(r->cwd, sizeof r->cwd - 1) == nullptr) r->cwd[0] = '?';
}

TEST_F(NamespacesTest, CloneProcess_NewNamespaces_ChildIsPid1AndFoundByPidsInNetns) {
  char root_host[64] = {};
  ::gethostname(root_host, sizeof root_host - 1);
  Pipe report = Pipe::Make();
  Pipe go = Pipe::Make();
  int report_w = report.write.get(), go_r = go.read.get();
  auto pid = CloneProcess(
      {.flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID, .child_fn = [=] {
         static const char kName[] = "qnettest-child";
         ::sethostname(kName, sizeof kName - 1);
         ChildReport r;
         FillReport(&r);
         if (::write(report_w, &r, sizeof r) != sizeof r) return 1;
         char c;
         return ::read(go_r, &c, 1) == 1 ? 42 : 2;
       }});
  ASSERT_TRUE(pid.has_value()) << pid.error().message();
  ChildProcess child(*pid);  // killed and reaped if an assertion fails

  ChildReport r;
  ASSERT_TRUE(ReadWithin(report.read.get(), &r)) << "child did not report";
  EXPECT_EQ(r.pid, 1) << "pid 1 of its own pid namespace";
  EXPECT_NE(r.netns, *NamespaceInode("/proc/self/ns/net"));
  EXPECT_STREQ(r.hostname, "qnettest-child");
  char host_now[64] = {};
  ::gethostname(host_now, sizeof host_now - 1);
  EXPECT_STREQ(host_now, root_host) << "root hostname untouched";

  auto pids = runtime::PidsInNetns(r.netns);
  ASSERT_TRUE(pids.has_value()) << pids.error().message();
  EXPECT_EQ(*pids, std::vector<pid_t>{*pid});
  EXPECT_EQ(*runtime::NamespaceInodeOfFd(runtime::OpenNamespace(*pid, "net")->get()), r.netns);

  // A second child joins the first one's namespaces; it opens nothing itself.
  auto set = runtime::OpenNamespaces(*pid, CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS);
  ASSERT_TRUE(set.has_value()) << set.error().message();
  Pipe report2 = Pipe::Make();
  int report2_w = report2.write.get();
  const runtime::NamespaceSet* set_ptr = &*set;
  auto joiner = CloneProcess({.flags = 0, .child_fn = [=] {
                                if (!runtime::EnterNamespaces(*set_ptr).ok()) return 3;
                                ChildReport j;
                                FillReport(&j);
                                return ::write(report2_w, &j, sizeof j) == sizeof j ? 0 : 4;
                              }});
  ASSERT_TRUE(joiner.has_value()) << joiner.error().message();
  ChildProcess joiner_child(*joiner);
  ChildReport j;
  ASSERT_TRUE(ReadWithin(report2.read.get(), &j)) << "joiner did not report";
  EXPECT_EQ(j.netns, r.netns);
  EXPECT_EQ(j.utsns, r.utsns);
  EXPECT_STREQ(j.hostname, "qnettest-child");
  EXPECT_STREQ(j.cwd, "/");
  EXPECT_EQ(*joiner_child.Wait(), 0);

  ASSERT_EQ(::write(go.write.get(), "x", 1), 1);
  auto code = child.Wait();
  ASSERT_TRUE(code.has_value()) << code.error().message();
  EXPECT_EQ(*code, 42);
}

TEST_F(NamespacesTest, PidsInNetns_FindsOurselvesInOurOwnNamespace) {
  auto pids = runtime::PidsInNetns(*NamespaceInode("/proc/self/ns/net"));
  ASSERT_TRUE(pids.has_value());
  EXPECT_NE(std::find(pids->begin(), pids->end(), ::getpid()), pids->end());
  EXPECT_TRUE(std::is_sorted(pids->begin(), pids->end()));
}

TEST_F(NamespacesTest, PinnedNetns_RemovesItsPinWhenDestroyed) {
  std::string path = TestNetnsPath("raii");
  {
    auto ns = runtime::PinnedNetns::Create(path);
    ASSERT_TRUE(ns.has_value()) << ns.error().message();
    EXPECT_EQ(::access(path.c_str(), F_OK), 0);
    runtime::PinnedNetns moved = *std::move(ns);
    EXPECT_TRUE(moved.valid());
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace qnet::testing
