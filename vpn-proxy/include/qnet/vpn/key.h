// qnet::vpn::Key: a WireGuard key (Curve25519 private or public key, or a
// preshared key) as a 32-byte value.
//
// A key is a secret or close to one, so it never reaches a log by accident:
// fmt prints every Key as "(hidden)", as `wg show` masks private and
// preshared keys. The text forms (base64 for wg-quick files, lowercase hex
// for the UAPI protocol) come only from the explicit ToBase64 / ToHex calls
// of the code that writes those formats. Parsers report a bad key without
// echoing it. Regular value type, thread-compatible.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "qnet/base/result.h"

namespace qnet::vpn {

inline constexpr size_t kKeyLen = 32;

class Key {
 public:
  Key() = default;  // all zero: "no key" on the wire
  explicit Key(const std::array<uint8_t, kKeyLen>& bytes) : bytes_(bytes) {}

  // Exactly 44 characters: 43 of the standard base64 alphabet and one '=',
  // with the unused low bits of the last character zero (as wg(8) decodes
  // it). kInvalidArgument otherwise; the message never quotes the text.
  static Result<Key> FromBase64(std::string_view text);
  // Exactly 64 hex digits (either case). kInvalidArgument otherwise.
  static Result<Key> FromHex(std::string_view text);

  const std::array<uint8_t, kKeyLen>& bytes() const { return bytes_; }
  bool IsZero() const;
  std::string ToBase64() const;
  std::string ToHex() const;  // lowercase, as the UAPI protocol writes it

  bool operator==(const Key&) const = default;

 private:
  std::array<uint8_t, kKeyLen> bytes_{};
};

// A new Curve25519 private key from the system's CSPRNG, clamped as
// `wg genkey` writes it. kInternal if the CSPRNG fails.
Result<Key> GeneratePrivateKey();
// The public key of a private key (X25519 with the base point), as
// `wg pubkey` prints it. kInvalidArgument for the zero key.
Result<Key> PublicKeyOf(const Key& private_key);

}  // namespace qnet::vpn

template <>
struct fmt::formatter<qnet::vpn::Key> : fmt::formatter<std::string_view> {
  auto format(const qnet::vpn::Key&, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format("(hidden)", ctx);
  }
};
