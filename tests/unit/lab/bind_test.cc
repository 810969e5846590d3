#include "qnet/lab/bind.h"

#include <gtest/gtest.h>

namespace qnet::lab {
namespace {

TEST(LabAddressText, ShowsIpv4MappedAddressesAsIpv4) {
  EXPECT_EQ(AddressText(asio::ip::make_address("::ffff:203.0.113.31")), "203.0.113.31");
  EXPECT_EQ(AddressText(asio::ip::make_address("2001:db8:2::31")), "2001:db8:2::31");
  EXPECT_EQ(AddressText(asio::ip::make_address("127.0.0.1")), "127.0.0.1");
}

TEST(LabBind, ResolveBindSpecs_DefaultsToBothWildcardsAndRejectsNonAddresses) {
  auto specs = ResolveBindSpecs({});
  ASSERT_TRUE(specs.has_value());
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].address.to_string(), "0.0.0.0");
  EXPECT_EQ((*specs)[1].address.to_string(), "::");
  EXPECT_TRUE((*specs)[1].optional);
  EXPECT_TRUE((*specs)[1].v6_only);
  auto bad = ResolveBindSpecs({"web.lab"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "--bind: 'web.lab' is not an address");
}

TEST(LabBind, ResolveBindSpecs_LoneIpv6WildcardIsDualStack) {
  auto alone = ResolveBindSpecs({"::"});
  ASSERT_TRUE(alone.has_value());
  EXPECT_FALSE((*alone)[0].v6_only);
  EXPECT_FALSE((*alone)[0].optional);
  auto both = ResolveBindSpecs({"::", "0.0.0.0"});
  ASSERT_TRUE(both.has_value());
  EXPECT_TRUE((*both)[0].v6_only);
}

}  // namespace
}  // namespace qnet::lab
