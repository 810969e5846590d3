#include "qnet/netlink/mac.h"

#include <gtest/gtest.h>

namespace qnet::netlink {
namespace {

TEST(Mac, ParsesAndFormatsLowerCase) {
  auto mac = Mac::Parse("00:16:3E:5e:6C:0a");
  ASSERT_TRUE(mac.has_value()) << mac.error().message();
  EXPECT_EQ(mac->ToString(), "00:16:3e:5e:6c:0a");
  EXPECT_EQ(fmt::format("{}", *mac), "00:16:3e:5e:6c:0a");
  EXPECT_EQ(mac->bytes()[2], 0x3e);
}

TEST(Mac, AcceptsSingleDigitGroups) {
  auto mac = Mac::Parse("0:1:2:a:b:c");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(mac->ToString(), "00:01:02:0a:0b:0c");
}

TEST(Mac, RejectsMalformedTextNamingIt) {
  for (const char* bad : {"", "00:16:3e:5e:6c", "00:16:3e:5e:6c:0a:01", "00:16:3e:5e:6c:0g",
                          "000:16:3e:5e:6c:0a", "00-16-3e-5e-6c-0a", "00:16:3e:5e:6c:0a:",
                          ":00:16:3e:5e:6c", "00::3e:5e:6c:0a", " 00:16:3e:5e:6c:0a"}) {
    auto mac = Mac::Parse(bad);
    ASSERT_FALSE(mac.has_value()) << bad;
    EXPECT_EQ(mac.error().code(), Errc::kInvalidArgument);
    EXPECT_NE(mac.error().message().find(fmt::format("'{}'", bad)), std::string::npos);
  }
}

TEST(Mac, FromBytesWantsSixBytes) {
  const uint8_t raw[6] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff};
  auto mac = Mac::FromBytes(raw, 6);
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(mac->ToString(), "fe:ff:ff:ff:ff:ff");
  EXPECT_FALSE(Mac::FromBytes(raw, 4).has_value());
}

TEST(Mac, ClassifiesZeroAndMulticast) {
  EXPECT_TRUE(Mac().is_zero());
  EXPECT_TRUE(Mac::Parse("01:00:5e:00:00:01")->is_multicast());
  EXPECT_FALSE(Mac::Parse("02:00:5e:00:00:01")->is_multicast());
}

TEST(Mac, OrdersByBytes) {
  EXPECT_LT(*Mac::Parse("00:00:00:00:00:01"), *Mac::Parse("00:00:00:00:01:00"));
  EXPECT_EQ(*Mac::Parse("aa:bb:cc:dd:ee:ff"), *Mac::Parse("AA:BB:CC:DD:EE:FF"));
}

}  // namespace
}  // namespace qnet::netlink
