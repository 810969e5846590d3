// Which namespace /proc/sys/net and /proc/net show to a thread that entered
// another network namespace with setns (netlink::RunInNetns).
#include <thread>

#include "netns_fixture.h"
#include "qnet/netlink/rtnl.h"
#include "qnet/netlink/sysctl.h"

namespace qnet::testing {
namespace {

class SysctlTest : public TwoNetnsTest {
 protected:
  void SetUp() override {
    TwoNetnsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // An interface that exists only in A: a knob of it can only be reached
    // through A's /proc/sys/net, so a wrong guess fails instead of touching
    // the root namespace. (A bridge: this kernel may lack dummy support.)
    Status s = netlink::CreateBridge(A(), "qt-only-a");
    ASSERT_TRUE(s.ok()) << s.error().message();
  }
};

TEST_F(SysctlTest, ProcSysNet_FollowsTheCallingThreadsNetns) {
  const std::string key = *netlink::IfSysctlKey("ipv4", "qt-only-a", "forwarding");
  auto from_root = netlink::GetSysctl(key);
  ASSERT_FALSE(from_root.has_value()) << "root namespace has no qt-only-a";
  EXPECT_EQ(from_root.error().code(), Errc::kNotFound);
  EXPECT_NE(from_root.error().message().find(key), std::string::npos);

  for (const char* value : {"1", "0"}) {
    Status set = netlink::SetSysctlInNetns(a_.fd(), key, value);
    ASSERT_TRUE(set.ok()) << set.error().message();
    auto got = netlink::GetSysctlInNetns(a_.fd(), key);
    ASSERT_TRUE(got.has_value()) << got.error().message();
    EXPECT_EQ(*got, value);
  }
}

TEST_F(SysctlTest, GlobalNetKnobInNamespace_LeavesRootUnchanged) {
  // Established first: a thread in A resolves /proc/sys/net in A.
  ASSERT_TRUE(netlink::GetSysctlInNetns(a_.fd(), "net/ipv4/conf/qt-only-a/forwarding"));
  const char* key = "net/ipv4/ip_forward";
  auto root_before = netlink::GetSysctl(key);
  ASSERT_TRUE(root_before.has_value()) << root_before.error().message();
  auto b_before = netlink::GetSysctlInNetns(b_.fd(), key);
  ASSERT_TRUE(b_before.has_value()) << b_before.error().message();
  for (const char* value : {"1", "0", "1"}) {
    ASSERT_TRUE(netlink::SetSysctlInNetns(a_.fd(), key, value).ok());
    EXPECT_EQ(*netlink::GetSysctlInNetns(a_.fd(), key), value);
    EXPECT_EQ(*netlink::GetSysctl(key), *root_before) << "root namespace changed";
  }
  EXPECT_EQ(*netlink::GetSysctlInNetns(b_.fd(), key), *b_before) << "B is independent of A";
}

TEST_F(SysctlTest, IfSysctl_DisableIpv6InsideNamespace) {
  ASSERT_TRUE(netlink::RunInNetns(a_.fd(), [] {
                return netlink::SetIfSysctl("ipv6", "qt-only-a", "disable_ipv6", "1");
              }).ok());
  Result<std::string> v = Fail(Errc::kInternal, "unset");
  ASSERT_TRUE(netlink::RunInNetns(a_.fd(), [&]() -> Status {
                v = netlink::GetIfSysctl("ipv6", "qt-only-a", "disable_ipv6");
                return OkStatus();
              }).ok());
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(*v, "1");
}

// The same from a thread that is not the thread-group leader: /proc/sys/net
// still follows the thread, while /proc/self/net (what /proc/net points to)
// shows the leader's namespace and /proc/thread-self/net the thread's.
TEST_F(SysctlTest, NonLeaderThread_ProcSysNetFollowsThread_ProcSelfNetFollowsLeader) {
  std::string sysctl_value, self_dev, thread_self_dev;
  Status s = Fail(Errc::kInternal, "thread did not run");
  std::thread worker([&] {
    s = netlink::RunInNetns(a_.fd(), [&]() -> Status {
      QNET_ASSIGN_OR_RETURN(sysctl_value, netlink::GetSysctl("net/ipv4/conf/qt-only-a/forwarding"));
      QNET_ASSIGN_OR_RETURN(self_dev, ReadFile("/proc/self/net/dev"));
      QNET_ASSIGN_OR_RETURN(thread_self_dev, ReadFile("/proc/thread-self/net/dev"));
      return OkStatus();
    });
  });
  worker.join();
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_FALSE(sysctl_value.empty());
  EXPECT_NE(thread_self_dev.find("qt-only-a"), std::string::npos);
  EXPECT_EQ(self_dev.find("qt-only-a"), std::string::npos);
}

TEST_F(SysctlTest, MissingKnob_IsNotFoundNamingTheKey) {
  Status s = netlink::SetSysctlInNetns(a_.fd(), "net/ipv4/no_such_knob", "1");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kNotFound);
  EXPECT_NE(s.error().message().find("net/ipv4/no_such_knob"), std::string::npos);
}

}  // namespace
}  // namespace qnet::testing
