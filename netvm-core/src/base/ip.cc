#include "qnet/base/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace qnet {

IpAddr IpAddr::V4(uint32_t host_order) {
  IpAddr a;
  a.family_ = Family::kV4;
  uint32_t n = htonl(host_order);
  std::memcpy(a.bytes_.data(), &n, 4);
  return a;
}

IpAddr IpAddr::V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return V4((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
}

IpAddr IpAddr::V6(const std::array<uint8_t, 16>& bytes) {
  IpAddr a;
  a.family_ = Family::kV6;
  a.bytes_ = bytes;
  return a;
}

Result<IpAddr> IpAddr::Parse(std::string_view text) {
  std::string s(text);
  IpAddr a;
  if (s.find(':') == std::string::npos) {
    if (::inet_pton(AF_INET, s.c_str(), a.bytes_.data()) == 1) return a;
  } else {
    a.family_ = Family::kV6;
    if (::inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) == 1) return a;
  }
  return Fail(Errc::kInvalidArgument, fmt::format("'{}' is not an IP address", text));
}

uint32_t IpAddr::v4_host_order() const {
  uint32_t n;
  std::memcpy(&n, bytes_.data(), 4);
  return ntohl(n);
}

std::string IpAddr::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  ::inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

Result<IpPrefix> IpPrefix::Parse(std::string_view text) {
  auto slash = text.find('/');
  QNET_ASSIGN_OR_RETURN(IpAddr addr, IpAddr::Parse(text.substr(0, slash)));
  int max = addr.is_v4() ? 32 : 128;
  if (slash == std::string_view::npos) return IpPrefix(addr, max);
  auto len_text = text.substr(slash + 1);
  int len = -1;
  auto [p, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc() || p != len_text.data() + len_text.size() || len < 0 || len > max)
    return Fail(Errc::kInvalidArgument, fmt::format("'{}' has a bad prefix length", text));
  return IpPrefix(addr, len);
}

IpPrefix IpPrefix::Network() const {
  std::array<uint8_t, 16> b{};
  std::memcpy(b.data(), addr_.data(), addr_.size());
  for (size_t i = 0; i < addr_.size(); ++i) {
    int bits = len_ - static_cast<int>(i) * 8;
    if (bits >= 8) continue;
    b[i] &= bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
  }
  if (addr_.is_v4()) return IpPrefix(IpAddr::V4(b[0], b[1], b[2], b[3]), len_);
  return IpPrefix(IpAddr::V6(b), len_);
}

bool IpPrefix::Contains(const IpAddr& a) const {
  if (a.family() != addr_.family()) return false;
  return IpPrefix(a, len_).Network().addr() == Network().addr();
}

std::string IpPrefix::ToString() const { return fmt::format("{}/{}", addr_.ToString(), len_); }

}  // namespace qnet
