// IP addresses and prefixes as values (IPv4 and IPv6), parsed and formatted.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "qnet/base/result.h"

namespace qnet {

class IpAddr {
 public:
  enum class Family : uint8_t { kV4, kV6 };
  IpAddr() = default;
  static IpAddr V4(uint32_t host_order);
  static IpAddr V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
  static IpAddr V6(const std::array<uint8_t, 16>& bytes);
  // Parses dotted quad or RFC 4291 text; the error names the text.
  static Result<IpAddr> Parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  // Network-order bytes: 4 for IPv4, 16 for IPv6.
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return is_v4() ? 4 : 16; }
  uint32_t v4_host_order() const;
  std::string ToString() const;

  auto operator<=>(const IpAddr&) const = default;

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

class IpPrefix {
 public:
  IpPrefix() = default;
  IpPrefix(IpAddr addr, int len) : addr_(addr), len_(len) {}
  // "10.0.0.0/8", "fd00::/64", or a bare address (full length).
  static Result<IpPrefix> Parse(std::string_view text);
  static IpPrefix Host(IpAddr a) { return IpPrefix(a, a.is_v4() ? 32 : 128); }

  const IpAddr& addr() const { return addr_; }
  int len() const { return len_; }
  // The prefix with host bits cleared.
  IpPrefix Network() const;
  bool Contains(const IpAddr& a) const;
  std::string ToString() const;  // "addr/len"

  auto operator<=>(const IpPrefix&) const = default;

 private:
  IpAddr addr_;
  int len_ = 0;
};

}  // namespace qnet

template <>
struct fmt::formatter<qnet::IpAddr> : fmt::formatter<std::string_view> {
  auto format(const qnet::IpAddr& a, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(a.ToString(), ctx);
  }
};
template <>
struct fmt::formatter<qnet::IpPrefix> : fmt::formatter<std::string_view> {
  auto format(const qnet::IpPrefix& p, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(p.ToString(), ctx);
  }
};
