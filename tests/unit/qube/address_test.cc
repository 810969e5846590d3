#include "qnet/qube/address.h"

#include <gtest/gtest.h>

namespace qnet::qube {
namespace {

struct AddressRow {
  uint32_t id;
  const char* ipv4;
  const char* ipv4_disposable;
  const char* ipv6;
};

// IPv4 values are those of Qubes' own test_200_vmid_to_ipv4
// (qubes/tests/vm/mix/net.py), IPv6 those of get_ip6_for_vm.
constexpr AddressRow kPlan[] = {
    {1, "10.137.0.1", "10.138.0.1", "fd09:24ef:4179::a89:1"},
    {2, "10.137.0.2", "10.138.0.2", "fd09:24ef:4179::a89:2"},
    {254, "10.137.0.254", "10.138.0.254", "fd09:24ef:4179::a89:fe"},
    {255, "10.137.1.1", "10.138.1.1", "fd09:24ef:4179::a89:ff"},
    {256, "10.137.1.2", "10.138.1.2", "fd09:24ef:4179::a89:100"},
    {257, "10.137.1.3", "10.138.1.3", "fd09:24ef:4179::a89:101"},
    {508, "10.137.1.254", "10.138.1.254", "fd09:24ef:4179::a89:1fc"},
    {509, "10.137.2.1", "10.138.2.1", "fd09:24ef:4179::a89:1fd"},
    {510, "10.137.2.2", "10.138.2.2", "fd09:24ef:4179::a89:1fe"},
    {513, "10.137.2.5", "10.138.2.5", "fd09:24ef:4179::a89:201"},
    {kMaxQubeId, "10.137.255.254", "10.138.255.254", "fd09:24ef:4179::a89:fe00"},
};

TEST(AddressPlan, Ipv4ForId_MatchesQubesVmidToIpv4) {
  for (const AddressRow& row : kPlan) {
    SCOPED_TRACE(row.id);
    auto v4 = Ipv4ForId(row.id);
    ASSERT_TRUE(v4.has_value()) << v4.error().message();
    EXPECT_EQ(v4->ToString(), row.ipv4);
    auto disp = Ipv4ForId(row.id, /*disposable=*/true);
    ASSERT_TRUE(disp.has_value());
    EXPECT_EQ(disp->ToString(), row.ipv4_disposable);
  }
}

TEST(AddressPlan, Ipv6ForId_PutsIdInHexAfterA89) {
  for (const AddressRow& row : kPlan) {
    SCOPED_TRACE(row.id);
    auto v6 = Ipv6ForId(row.id);
    ASSERT_TRUE(v6.has_value()) << v6.error().message();
    EXPECT_EQ(*v6, IpAddr::Parse(row.ipv6).value());
    EXPECT_TRUE(QubesIpv6Prefix().Contains(*v6));
  }
  EXPECT_EQ(Ipv6ForId(509, /*disposable=*/true).value(),
            IpAddr::Parse("fd09:24ef:4179::a8a:1fd").value());
}

TEST(AddressPlan, LastOctetIsNeverZeroOr255) {
  for (uint32_t id = kMinQubeId; id <= kMaxQubeId; ++id) {
    uint32_t v4 = Ipv4ForId(id).value().v4_host_order();
    ASSERT_NE(v4 & 0xff, 0u) << id;
    ASSERT_NE(v4 & 0xff, 255u) << id;
  }
}

TEST(AddressPlan, IdsOutsideThePlanAreRefused) {
  auto zero = Ipv4ForId(0);
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(zero.error().message(), "qube id 0 out of range (1..65024)");
  EXPECT_FALSE(Ipv4ForId(kMaxQubeId + 1).has_value());
  EXPECT_FALSE(Ipv6ForId(kMaxQubeId + 1).has_value());
  EXPECT_FALSE(Ipv6ForId(0).has_value());
  EXPECT_FALSE(VifName(0).has_value());
}

TEST(AddressPlan, VirtualDnsIsQubes) {
  auto dns = VirtualDnsServers();
  EXPECT_EQ(dns[0].ToString(), "10.139.1.1");
  EXPECT_EQ(dns[1].ToString(), "10.139.1.2");
}

TEST(InterfaceNames, VifNameIsXenStyleAndFitsIfnamsiz) {
  EXPECT_EQ(VifName(12).value(), "vif12.0");
  EXPECT_EQ(VifName(kMaxQubeId).value(), "vif65024.0");
  EXPECT_EQ(kClientIfName, "eth0");
}

TEST(InterfaceNames, ValidateIfName_RefusesWhatTheKernelRefuses) {
  EXPECT_TRUE(ValidateIfName("eth0").ok());
  EXPECT_TRUE(ValidateIfName("exactly15chars_").ok());
  auto long_name = ValidateIfName("sixteen_chars_xx");
  ASSERT_FALSE(long_name.ok());
  EXPECT_EQ(long_name.error().message(),
            "invalid interface name 'sixteen_chars_xx': longer than 15 characters");
  EXPECT_FALSE(ValidateIfName("").ok());
  EXPECT_FALSE(ValidateIfName("..").ok());
  EXPECT_FALSE(ValidateIfName("a/b").ok());
  EXPECT_FALSE(ValidateIfName("a b").ok());
  EXPECT_FALSE(ValidateIfName("eth0:1").ok());
}

}  // namespace
}  // namespace qnet::qube
