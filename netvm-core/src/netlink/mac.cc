#include "qnet/netlink/mac.h"

#include <cstring>

namespace qnet::netlink {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<Mac> Mac::Parse(std::string_view text) {
  auto bad = [&] {
    return Fail(Errc::kInvalidArgument, fmt::format("bad MAC address '{}'", text));
  };
  std::array<uint8_t, kSize> bytes{};
  size_t pos = 0;
  for (size_t i = 0; i < kSize; ++i) {
    if (i > 0) {
      if (pos >= text.size() || text[pos] != ':') return bad();
      ++pos;
    }
    int value = 0;
    size_t digits = 0;
    while (pos < text.size() && digits < 3 && HexValue(text[pos]) >= 0) {
      value = value * 16 + HexValue(text[pos]);
      ++pos;
      ++digits;
    }
    if (digits == 0 || digits > 2) return bad();
    bytes[i] = static_cast<uint8_t>(value);
  }
  if (pos != text.size()) return bad();
  return Mac(bytes);
}

Result<Mac> Mac::FromBytes(const void* data, size_t len) {
  if (len != kSize)
    return Fail(Errc::kInvalidArgument, fmt::format("MAC address of {} bytes, want 6", len));
  std::array<uint8_t, kSize> bytes{};
  std::memcpy(bytes.data(), data, kSize);
  return Mac(bytes);
}

std::string Mac::ToString() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes_[0], bytes_[1], bytes_[2],
                     bytes_[3], bytes_[4], bytes_[5]);
}

}  // namespace qnet::netlink
