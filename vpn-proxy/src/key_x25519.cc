// Key generation and public-key derivation through OpenSSL's X25519 (the
// same function as wireguard-tools' curve25519 code).
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "qnet/vpn/key.h"

namespace qnet::vpn {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

}  // namespace

Result<Key> GeneratePrivateKey() {
  std::array<uint8_t, kKeyLen> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1)
    return Fail(Errc::kInternal, "no random bytes for a WireGuard key (RAND_bytes failed)");
  b[0] &= 248;
  b[31] = static_cast<uint8_t>((b[31] & 127) | 64);
  return Key(b);
}

Result<Key> PublicKeyOf(const Key& private_key) {
  if (private_key.IsZero())
    return Fail(Errc::kInvalidArgument, "the all-zero key has no public key");
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.bytes().data(), kKeyLen));
  if (!pkey) return Fail(Errc::kInternal, "X25519 key setup failed");
  std::array<uint8_t, kKeyLen> pub{};
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), pub.data(), &len) != 1 || len != kKeyLen)
    return Fail(Errc::kInternal, "X25519 public key derivation failed");
  return Key(pub);
}

}  // namespace qnet::vpn
