#include "qnet/qube/address.h"

#include <fmt/format.h>

namespace qnet::qube {
namespace {

// Qubes' qubes_ipv6_prefix, fd09:24ef:4179:0000, as its 8 leading bytes.
constexpr std::array<uint8_t, 8> kIpv6PrefixBytes = {0xfd, 0x09, 0x24, 0xef,
                                                     0x41, 0x79, 0x00, 0x00};

// The third and fourth octets of vmid_to_ipv4(prefix, id). Qubes keeps the
// plain split below 255 so existing qubes keep their addresses, and skips .0
// and .255 from there on.
std::pair<uint32_t, uint32_t> LowOctets(uint32_t id) {
  if (id < 255) return {id >> 8, id & 0xff};
  uint32_t m = id - 1;
  return {m / 254, m % 254 + 1};
}

}  // namespace

Status ValidateQubeId(uint32_t id) {
  if (id < kMinQubeId || id > kMaxQubeId) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("qube id {} out of range ({}..{})", id, kMinQubeId, kMaxQubeId));
  }
  return OkStatus();
}

Result<IpAddr> Ipv4ForId(uint32_t id, bool disposable) {
  QNET_TRY(ValidateQubeId(id));
  auto [third, fourth] = LowOctets(id);
  return IpAddr::V4(10, disposable ? 138 : 137, static_cast<uint8_t>(third),
                    static_cast<uint8_t>(fourth));
}

Result<IpAddr> Ipv6ForId(uint32_t id, bool disposable) {
  QNET_TRY(ValidateQubeId(id));
  std::array<uint8_t, 16> bytes{};
  std::copy(kIpv6PrefixBytes.begin(), kIpv6PrefixBytes.end(), bytes.begin());
  // 0a89 / 0a8a spell "10.137" / "10.138" in hex, as in Qubes.
  bytes[12] = 0x0a;
  bytes[13] = disposable ? 0x8a : 0x89;
  bytes[14] = static_cast<uint8_t>(id >> 8);
  bytes[15] = static_cast<uint8_t>(id & 0xff);
  return IpAddr::V6(bytes);
}

IpPrefix QubesIpv6Prefix() {
  std::array<uint8_t, 16> bytes{};
  std::copy(kIpv6PrefixBytes.begin(), kIpv6PrefixBytes.end(), bytes.begin());
  return IpPrefix(IpAddr::V6(bytes), 64);
}

std::array<IpAddr, 2> VirtualDnsServers() {
  return {IpAddr::V4(10, 139, 1, 1), IpAddr::V4(10, 139, 1, 2)};
}

Status ValidateIfName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return Fail(Errc::kInvalidArgument, fmt::format("invalid interface name '{}': {}", name, why));
  };
  if (name.empty()) return bad("empty");
  if (name.size() > kMaxIfNameLength) {
    return bad(fmt::format("longer than {} characters", kMaxIfNameLength));
  }
  if (name == "." || name == "..") return bad("reserved");
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == ':' || u <= 0x20 || u == 0x7f) {
      return bad("contains '/', ':', whitespace or a control character");
    }
  }
  return OkStatus();
}

Result<std::string> VifName(uint32_t client_id) {
  QNET_TRY(ValidateQubeId(client_id));
  std::string name = fmt::format("vif{}.0", client_id);
  QNET_TRY(ValidateIfName(name));
  return name;
}

}  // namespace qnet::qube
