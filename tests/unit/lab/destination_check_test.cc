#include "qnet/testtools/destination_check.h"

#include <gtest/gtest.h>

namespace qnet::testtools {
namespace {

Status Check(const char* text) {
  auto addr = IpAddr::Parse(text);
  EXPECT_TRUE(addr.has_value()) << text;
  return CheckBlastDestination(*addr);
}

TEST(BlastDestination, AllowsTheLabRangesAndLoopback) {
  for (const char* a : {"10.137.0.5", "10.255.255.255", "198.51.100.1", "203.0.113.10",
                        "203.0.113.255", "127.0.0.1", "127.8.9.10", "2001:db8:2::10",
                        "2001:db8:ffff::1", "fd00::1", "fdff:ffff::1", "::1"}) {
    EXPECT_TRUE(Check(a).ok()) << a;
  }
}

TEST(BlastDestination, RefusesEverythingElse) {
  for (const char* a : {"8.8.8.8", "11.0.0.1", "198.51.101.1", "203.0.114.1", "172.16.0.1",
                        "192.168.1.1", "0.0.0.0", "255.255.255.255", "2001:db9::1",
                        "2606:4700::1111", "fe80::1", "::", "fc00::1"}) {
    Status s = Check(a);
    ASSERT_FALSE(s.ok()) << a;
    EXPECT_EQ(s.error().code(), Errc::kPermissionDenied);
    EXPECT_NE(s.error().message().find(a), std::string::npos) << s.error().message();
  }
}

TEST(BlastDestination, AlwaysRefuses192_0_2_0Slash24EvenMappedIntoIpv6) {
  for (const char* a : {"192.0.2.1", "192.0.2.0", "192.0.2.255", "::ffff:192.0.2.1"}) {
    EXPECT_FALSE(Check(a).ok()) << a;
  }
  EXPECT_NE(Check("192.0.2.7").error().message().find("own network"), std::string::npos);
}

}  // namespace
}  // namespace qnet::testtools
