#include "qnet/tor/auth.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <string_view>

#include "qnet/base/fd.h"

namespace qnet::tor {
namespace {

constexpr std::string_view kServerKey = "Tor safe cookie authentication server-to-controller hash";
constexpr std::string_view kClientKey = "Tor safe cookie authentication controller-to-server hash";

Digest Hmac(std::string_view key, std::span<const uint8_t> cookie,
            std::span<const uint8_t> client_nonce, std::span<const uint8_t> server_nonce) {
  std::vector<uint8_t> message;
  message.reserve(cookie.size() + client_nonce.size() + server_nonce.size());
  message.insert(message.end(), cookie.begin(), cookie.end());
  message.insert(message.end(), client_nonce.begin(), client_nonce.end());
  message.insert(message.end(), server_nonce.begin(), server_nonce.end());
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
       out.data(), &len);
  OPENSSL_cleanse(message.data(), message.size());
  return out;
}

}  // namespace

Result<AuthMethod> ChooseAuthMethod(const ProtocolInfoReply& info, const Credentials& creds) {
  const bool cookie_usable = !info.cookie_file.empty();
  auto both = [&](AuthMethod m) { return info.methods.contains(m) && creds.allowed.contains(m); };
  if (both(AuthMethod::kSafeCookie) && cookie_usable) return AuthMethod::kSafeCookie;
  if (both(AuthMethod::kCookie) && cookie_usable) return AuthMethod::kCookie;
  if (both(AuthMethod::kHashedPassword) && creds.password) return AuthMethod::kHashedPassword;
  if (both(AuthMethod::kNull)) return AuthMethod::kNull;
  return Fail(Errc::kPermissionDenied,
              "control auth: tor offers no method this client can use (no cookie file, no "
              "password configured)");
}

Digest SafeCookieServerHash(std::span<const uint8_t> cookie, std::span<const uint8_t> client_nonce,
                            std::span<const uint8_t> server_nonce) {
  return Hmac(kServerKey, cookie, client_nonce, server_nonce);
}

Digest SafeCookieClientHash(std::span<const uint8_t> cookie, std::span<const uint8_t> client_nonce,
                            std::span<const uint8_t> server_nonce) {
  return Hmac(kClientKey, cookie, client_nonce, server_nonce);
}

Result<Digest> SafeCookieResponse(std::span<const uint8_t> cookie,
                                  std::span<const uint8_t> client_nonce,
                                  const AuthChallengeReply& challenge) {
  Digest expected = SafeCookieServerHash(cookie, client_nonce, challenge.server_nonce);
  if (challenge.server_hash.size() != expected.size() ||
      CRYPTO_memcmp(expected.data(), challenge.server_hash.data(), expected.size()) != 0)
    return Fail(Errc::kPermissionDenied, "control auth: SAFECOOKIE server hash does not match");
  return SafeCookieClientHash(cookie, client_nonce, challenge.server_nonce);
}

Result<std::array<uint8_t, kNonceLen>> RandomNonce() {
  std::array<uint8_t, kNonceLen> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1)
    return Fail(Errc::kInternal, "control auth: no random bytes for the nonce");
  return nonce;
}

Result<std::vector<uint8_t>> ReadCookieFile(const std::string& path) {
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (raw < 0) return Fail(ErrnoError(fmt::format("control auth: open cookie {}", path), errno));
  UniqueFd fd(raw);
  std::vector<uint8_t> cookie(kCookieLen + 1);
  ssize_t n = ::read(fd.get(), cookie.data(), cookie.size());
  if (n < 0) return Fail(ErrnoError(fmt::format("control auth: read cookie {}", path), errno));
  if (static_cast<size_t>(n) != kCookieLen)
    return Fail(Errc::kPermissionDenied,
                fmt::format("control auth: cookie {} is not {} bytes", path, kCookieLen));
  cookie.resize(kCookieLen);
  return cookie;
}

}  // namespace qnet::tor
