// Mac: an Ethernet (EUI-48) address as a value, parsed from and formatted as
// "aa:bb:cc:dd:ee:ff" (lower-case hex on output). Thread-compatible value type.
#pragma once

#include <fmt/format.h>

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "qnet/base/result.h"

namespace qnet::netlink {

class Mac {
 public:
  static constexpr size_t kSize = 6;

  Mac() = default;  // 00:00:00:00:00:00
  explicit Mac(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}
  // Exactly six colon-separated groups of one or two hex digits, either case.
  // kInvalidArgument naming the text otherwise.
  static Result<Mac> Parse(std::string_view text);
  // From raw bytes as the kernel reports them; kInvalidArgument unless
  // len == 6.
  static Result<Mac> FromBytes(const void* data, size_t len);

  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }
  const uint8_t* data() const { return bytes_.data(); }
  bool is_zero() const { return bytes_ == std::array<uint8_t, kSize>{}; }
  bool is_multicast() const { return (bytes_[0] & 1) != 0; }
  // "aa:bb:cc:dd:ee:ff".
  std::string ToString() const;

  auto operator<=>(const Mac&) const = default;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

}  // namespace qnet::netlink

template <>
struct fmt::formatter<qnet::netlink::Mac> : fmt::formatter<std::string_view> {
  auto format(const qnet::netlink::Mac& m, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(m.ToString(), ctx);
  }
};
