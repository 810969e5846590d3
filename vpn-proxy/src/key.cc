#include "qnet/vpn/key.h"

namespace qnet::vpn {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr size_t kBase64Len = 44;

int Base64Value(char c) {
  const size_t at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<Key> Key::FromBase64(std::string_view text) {
  auto bad = [](std::string_view why) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("not a WireGuard key: {} (expected base64 of 32 bytes, 44 characters "
                            "ending in '=')",
                            why));
  };
  if (text.size() != kBase64Len) return bad(fmt::format("{} characters", text.size()));
  if (text.back() != '=') return bad("does not end in '='");
  std::array<uint8_t, kKeyLen> out{};
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (size_t i = 0; i + 1 < kBase64Len; ++i) {
    const int v = Base64Value(text[i]);
    if (v < 0) return bad("a character outside the base64 alphabet");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = static_cast<uint8_t>(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  // 43 characters carry 258 bits: the 2 left over must be zero, or two
  // different texts would name the same key.
  if (n != kKeyLen || acc != 0) return bad("non-canonical final character");
  return Key(out);
}

Result<Key> Key::FromHex(std::string_view text) {
  if (text.size() != 2 * kKeyLen)
    return Fail(Errc::kInvalidArgument,
                fmt::format("not a WireGuard key: {} hex digits (expected 64)", text.size()));
  std::array<uint8_t, kKeyLen> out{};
  for (size_t i = 0; i < kKeyLen; ++i) {
    const int hi = HexValue(text[2 * i]);
    const int lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return Fail(Errc::kInvalidArgument, "not a WireGuard key: a character that is not hex");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return Key(out);
}

bool Key::IsZero() const {
  uint8_t acc = 0;
  for (uint8_t b : bytes_) acc |= b;
  return acc == 0;
}

std::string Key::ToBase64() const {
  std::string out;
  out.reserve(kBase64Len);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes_) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);  // 2 bits left, padded
  out.push_back('=');
  return out;
}

std::string Key::ToHex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * kKeyLen);
  for (uint8_t b : bytes_) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

}  // namespace qnet::vpn
