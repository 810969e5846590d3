// Control-port authentication, the pure part: choosing a method from
// PROTOCOLINFO, and SAFECOOKIE's hashes (control-spec "AUTHCHALLENGE"):
//   ServerHash = HMAC-SHA256("Tor safe cookie authentication server-to-controller hash",
//                            CookieString | ClientNonce | ServerNonce)
//   ClientHash = HMAC-SHA256("Tor safe cookie authentication controller-to-server hash",
//                            CookieString | ClientNonce | ServerNonce)
// The client checks tor's ServerHash (constant time) before it sends its
// own: a process that only pretends to be tor learns nothing about the
// cookie. Secrets are never part of an Error message. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/tor/control_types.h"

namespace qnet::tor {

inline constexpr size_t kCookieLen = 32;
inline constexpr size_t kNonceLen = 32;
using Digest = std::array<uint8_t, 32>;

// What the client can offer: a password when one is configured, and the
// methods it is willing to use (all by default; qnet's own tor offers
// cookies only).
struct Credentials {
  std::optional<std::string> password;
  std::set<AuthMethod> allowed = {AuthMethod::kNull, AuthMethod::kHashedPassword,
                                  AuthMethod::kCookie, AuthMethod::kSafeCookie};
  // The cookie file to read instead of the one tor names in PROTOCOLINFO:
  // the caller knows where its tor keeps it (and may see it under another
  // path, e.g. through /proc/<pid>/root), and never reads a file merely
  // because the other end named it.
  std::optional<std::string> cookie_file;
};

// The strongest method both sides have and the client allows: SAFECOOKIE,
// COOKIE, HASHEDPASSWORD (only with a password), NULL. kPermissionDenied
// when none.
Result<AuthMethod> ChooseAuthMethod(const ProtocolInfoReply& info, const Credentials& creds);

Digest SafeCookieServerHash(std::span<const uint8_t> cookie, std::span<const uint8_t> client_nonce,
                            std::span<const uint8_t> server_nonce);
Digest SafeCookieClientHash(std::span<const uint8_t> cookie, std::span<const uint8_t> client_nonce,
                            std::span<const uint8_t> server_nonce);

// Verifies tor's challenge answer; kPermissionDenied "server hash does not
// match" when it does not (the connection must then be closed).
Result<Digest> SafeCookieResponse(std::span<const uint8_t> cookie,
                                  std::span<const uint8_t> client_nonce,
                                  const AuthChallengeReply& challenge);

// 32 bytes from the system's CSPRNG.
Result<std::array<uint8_t, kNonceLen>> RandomNonce();

// Reads the cookie file (exactly 32 bytes). Errors name the file only.
Result<std::vector<uint8_t>> ReadCookieFile(const std::string& path);

}  // namespace qnet::tor
