#include "qnet/vpn/key.h"

#include <gtest/gtest.h>

namespace qnet::vpn {
namespace {

constexpr std::string_view kOnes = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
constexpr std::string_view kCounting = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

TEST(Key, Base64RoundTripsAndMatchesTheBytes) {
  auto key = Key::FromBase64(kCounting);
  ASSERT_TRUE(key.has_value()) << key.error().message();
  for (size_t i = 0; i < kKeyLen; ++i) EXPECT_EQ(key->bytes()[i], i);
  EXPECT_EQ(key->ToBase64(), kCounting);
  EXPECT_EQ(key->ToHex(), "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  auto back = Key::FromHex(key->ToHex());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, *key);
}

TEST(Key, FormatterNeverPrintsTheKey) {
  auto key = Key::FromBase64(kOnes);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(fmt::format("{}", *key), "(hidden)");
  EXPECT_EQ(fmt::format("key={:>10}", *key), "key=  (hidden)");
}

TEST(Key, RefusesWhatWgRefusesWithoutQuotingIt) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "0 characters"},
      {std::string(kOnes.substr(0, 43)), "43 characters"},
      {std::string(kOnes.substr(0, 43)) + "A", "does not end in '='"},
      {"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQF=", "non-canonical final character"},
      {"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBA!E=", "outside the base64 alphabet"},
  };
  for (const auto& [text, why] : cases) {
    auto key = Key::FromBase64(text);
    ASSERT_FALSE(key.has_value()) << text;
    EXPECT_NE(key.error().message().find(why), std::string::npos) << key.error().message();
    if (text.size() > 8) {
      EXPECT_EQ(key.error().message().find(text.substr(0, 8)), std::string::npos);
    }
  }
  EXPECT_FALSE(Key::FromHex(std::string(63, 'a')).has_value());
  EXPECT_FALSE(Key::FromHex(std::string(63, 'a') + "g").has_value());
  EXPECT_TRUE(Key::FromHex(std::string(64, 'A')).has_value());
}

TEST(Key, DefaultIsTheZeroKey) {
  EXPECT_TRUE(Key().IsZero());
  EXPECT_FALSE(Key::FromBase64(kOnes)->IsZero());
}

}  // namespace
}  // namespace qnet::vpn

namespace qnet::vpn {
namespace {

TEST(Key, PublicKeyMatchesRfc7748) {
  // RFC 7748 section 6.1, Alice.
  auto priv = Key::FromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  ASSERT_TRUE(priv.has_value());
  auto pub = PublicKeyOf(*priv);
  ASSERT_TRUE(pub.has_value()) << pub.error().message();
  EXPECT_EQ(pub->ToHex(), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_FALSE(PublicKeyOf(Key()).has_value());
}

TEST(Key, GeneratedKeysAreClampedAndDistinct) {
  auto a = GeneratePrivateKey();
  auto b = GeneratePrivateKey();
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->bytes()[0] & 7, 0);
  EXPECT_EQ(a->bytes()[31] & 0xc0, 0x40);
  EXPECT_TRUE(PublicKeyOf(*a).has_value());
}

}  // namespace
}  // namespace qnet::vpn
