#include <gtest/gtest.h>

#include "qnet/netlink/sysctl.h"

namespace qnet::netlink {
namespace {

TEST(SysctlKey, AcceptsRelativeKeysWithDottedInterfaceNames) {
  for (const char* key : {"net/ipv4/ip_forward", "net/ipv4/conf/vif5.0/proxy_arp",
                          "net/ipv6/conf/eth0/disable_ipv6", "kernel/hostname"}) {
    EXPECT_TRUE(ValidateSysctlKey(key).ok()) << key;
  }
  EXPECT_EQ(*SysctlPath("net/ipv4/ip_forward"), "/proc/sys/net/ipv4/ip_forward");
}

TEST(SysctlKey, RejectsTraversalAbsoluteAndEmptyComponents) {
  for (const char* key :
       {"", "/proc/sys/net/ipv4/ip_forward", "/net/ipv4/ip_forward", "..", "net/../../etc/passwd",
        "net/./ipv4", "net//ipv4", "net/ipv4/", "net/ipv4/conf/a b/x", "net/ipv4\n"}) {
    Status s = ValidateSysctlKey(key);
    ASSERT_FALSE(s.ok()) << key;
    EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
    EXPECT_FALSE(SysctlPath(key).has_value());
  }
  EXPECT_FALSE(ValidateSysctlKey(std::string_view("net\0x", 5)).ok());
}

TEST(SysctlKey, RejectedKeyIsNeverOpened) {
  Status s = SetSysctl("../../../tmp/qnet-should-not-exist", "1");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
}

TEST(IfSysctlKey, BuildsPerInterfaceKeys) {
  EXPECT_EQ(*IfSysctlKey("ipv6", "eth0", "disable_ipv6"), "net/ipv6/conf/eth0/disable_ipv6");
  EXPECT_EQ(*IfSysctlKey("ipv4", "vif5.0", "proxy_arp"), "net/ipv4/conf/vif5.0/proxy_arp");
  EXPECT_EQ(*IfSysctlKey("ipv4", "all", "forwarding"), "net/ipv4/conf/all/forwarding");
}

TEST(IfSysctlKey, RejectsUnknownFamilyBadInterfaceAndKnob) {
  EXPECT_FALSE(IfSysctlKey("ipv5", "eth0", "forwarding").has_value());
  EXPECT_FALSE(IfSysctlKey("ipv4", "..", "forwarding").has_value());
  EXPECT_FALSE(IfSysctlKey("ipv4", "a/b", "forwarding").has_value());
  EXPECT_FALSE(IfSysctlKey("ipv4", "averyveryverylongname", "forwarding").has_value());
  EXPECT_FALSE(IfSysctlKey("ipv4", "eth0", "../forwarding").has_value());
  EXPECT_FALSE(IfSysctlKey("ipv4", "eth0", "").has_value());
}

}  // namespace
}  // namespace qnet::netlink
