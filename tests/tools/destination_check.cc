#include "qnet/testtools/destination_check.h"

#include <fmt/format.h>

#include <array>
#include <string_view>

namespace qnet::testtools {
namespace {

constexpr std::array<std::string_view, 7> kAllowed = {
    "10.0.0.0/8",    "198.51.100.0/24", "203.0.113.0/24", "127.0.0.0/8",
    "2001:db8::/32", "fd00::/8",        "::1/128",
};
constexpr std::string_view kForbidden = "192.0.2.0/24";

bool InPrefix(std::string_view prefix_text, const IpAddr& addr) {
  auto prefix = IpPrefix::Parse(prefix_text);
  return prefix.has_value() && prefix->Contains(addr);
}

}  // namespace

Status CheckBlastDestination(const IpAddr& addr) {
  // Checked first and on its own so that no edit of kAllowed can open it.
  if (InPrefix(kForbidden, addr))
    return Fail(Errc::kPermissionDenied,
                fmt::format("destination {} is in {}, this machine's own network: refused", addr,
                            kForbidden));
  for (auto prefix : kAllowed)
    if (InPrefix(prefix, addr)) return OkStatus();
  return Fail(
      Errc::kPermissionDenied,
      fmt::format("destination {} is outside the lab's ranges and loopback: refused", addr));
}

}  // namespace qnet::testtools
