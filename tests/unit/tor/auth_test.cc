#include "qnet/tor/auth.h"

#include <gtest/gtest.h>

#include <vector>

#include "qnet/tor/control_command.h"

namespace qnet::tor {
namespace {

struct Inputs {
  std::vector<uint8_t> cookie = std::vector<uint8_t>(32);
  std::vector<uint8_t> client_nonce = std::vector<uint8_t>(32, 0xaa);
  std::vector<uint8_t> server_nonce = std::vector<uint8_t>(32, 0x55);
  Inputs() {
    for (size_t i = 0; i < cookie.size(); ++i) cookie[i] = static_cast<uint8_t>(i);
  }
};

// Reference values from Python's hmac module with the spec's two keys.
constexpr char kServerHash[] = "5F7CB5569957C99373E329258545940F029AF175DA225F4A3125EEBF30C24BBA";
constexpr char kClientHash[] = "9F99F2C4B75C91123CA5C6C6E3F76A9EF7FBD9471053CBE34454A4269CC39F7C";

TEST(SafeCookie, HashesMatchTheSpecsHmacConstruction) {
  Inputs in;
  EXPECT_EQ(HexEncode(SafeCookieServerHash(in.cookie, in.client_nonce, in.server_nonce)),
            kServerHash);
  EXPECT_EQ(HexEncode(SafeCookieClientHash(in.cookie, in.client_nonce, in.server_nonce)),
            kClientHash);
}

TEST(SafeCookie, AnswersOnlyAfterVerifyingTheServerHash) {
  Inputs in;
  AuthChallengeReply good{*HexDecode(kServerHash), in.server_nonce};
  auto answer = SafeCookieResponse(in.cookie, in.client_nonce, good);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(HexEncode(*answer), kClientHash);

  AuthChallengeReply forged = good;
  forged.server_hash[7] ^= 1;
  auto refused = SafeCookieResponse(in.cookie, in.client_nonce, forged);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Errc::kPermissionDenied);
  EXPECT_NE(refused.error().message().find("server hash does not match"), std::string::npos);
  // The error never carries the cookie or the hashes.
  EXPECT_EQ(refused.error().message().find(kClientHash), std::string::npos);
  EXPECT_EQ(refused.error().message().find("000102"), std::string::npos);
}

TEST(ChooseAuthMethod, PrefersSafeCookieThenCookieThenPasswordThenNull) {
  ProtocolInfoReply info;
  info.cookie_file = "/x/cookie";
  info.methods = {AuthMethod::kNull, AuthMethod::kHashedPassword, AuthMethod::kCookie,
                  AuthMethod::kSafeCookie};
  Credentials with_password{"pw"};
  EXPECT_EQ(*ChooseAuthMethod(info, with_password), AuthMethod::kSafeCookie);
  info.methods.erase(AuthMethod::kSafeCookie);
  EXPECT_EQ(*ChooseAuthMethod(info, with_password), AuthMethod::kCookie);
  info.methods.erase(AuthMethod::kCookie);
  EXPECT_EQ(*ChooseAuthMethod(info, with_password), AuthMethod::kHashedPassword);
  EXPECT_EQ(*ChooseAuthMethod(info, Credentials{}), AuthMethod::kNull);
  Credentials cookies_only;
  cookies_only.allowed = {AuthMethod::kCookie};
  info.methods = {AuthMethod::kNull, AuthMethod::kCookie, AuthMethod::kSafeCookie};
  EXPECT_EQ(*ChooseAuthMethod(info, cookies_only), AuthMethod::kCookie);
  info.methods = {AuthMethod::kHashedPassword};
  auto none = ChooseAuthMethod(info, Credentials{});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), Errc::kPermissionDenied);
}

TEST(RandomNonce, IsThirtyTwoFreshBytes) {
  auto a = RandomNonce();
  auto b = RandomNonce();
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
}

TEST(ReadCookieFile, RefusesAMissingFile) {
  auto r = ReadCookieFile("/nonexistent/qnet-cookie");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("/nonexistent/qnet-cookie"), std::string::npos);
}

}  // namespace
}  // namespace qnet::tor
