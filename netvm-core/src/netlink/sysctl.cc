#include "qnet/netlink/sysctl.h"

#include <fcntl.h>

#include <cctype>

#include "qnet/base/fd.h"
#include "qnet/netlink/link.h"
#include "qnet/netlink/socket.h"

namespace qnet::netlink {
namespace {

constexpr size_t kMaxKeyLen = 4096;

Status BadKey(std::string_view key, std::string_view why) {
  return Fail(Errc::kInvalidArgument, fmt::format("bad sysctl key '{}': {}", key, why));
}

}  // namespace

Status ValidateSysctlKey(std::string_view key) {
  if (key.empty()) return BadKey(key, "empty");
  if (key.size() > kMaxKeyLen) return BadKey(key, "too long");
  if (key.front() == '/') return BadKey(key, "absolute path");
  for (char c : key) {
    if (c == '\0' || std::isspace(static_cast<unsigned char>(c)) ||
        !std::isprint(static_cast<unsigned char>(c)))
      return BadKey(key, "NUL, whitespace or control character");
  }
  size_t start = 0;
  for (;;) {
    size_t end = key.find('/', start);
    std::string_view part =
        key.substr(start, end == std::string_view::npos ? key.npos : end - start);
    if (part.empty()) return BadKey(key, "empty component");
    if (part == "." || part == "..") return BadKey(key, "'.' or '..' component");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return OkStatus();
}

Result<std::string> SysctlPath(std::string_view key) {
  QNET_TRY(ValidateSysctlKey(key));
  return fmt::format("/proc/sys/{}", key);
}

Status SetSysctl(std::string_view key, std::string_view value) {
  QNET_ASSIGN_OR_RETURN(std::string path, SysctlPath(key));
  // O_TRUNC|O_CREAT as WriteFile does would be wrong for /proc: open for
  // writing only, and a knob that does not exist must be an error.
  auto fd = OpenFd(path, O_WRONLY);
  if (!fd) return Fail(fd.error().Wrap(fmt::format("sysctl {}", key)));
  Status s = WriteAll(fd->get(), value);
  if (!s) return Fail(s.error().Wrap(fmt::format("sysctl {} = {}", key, value)));
  return OkStatus();
}

Result<std::string> GetSysctl(std::string_view key) {
  QNET_ASSIGN_OR_RETURN(std::string path, SysctlPath(key));
  auto text = ReadFile(path);
  if (!text) return Fail(text.error().Wrap(fmt::format("sysctl {}", key)));
  std::string value = *std::move(text);
  while (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

Result<std::string> IfSysctlKey(std::string_view family, std::string_view ifname,
                                std::string_view knob) {
  if (family != "ipv4" && family != "ipv6")
    return Fail(Errc::kInvalidArgument,
                fmt::format("sysctl family '{}': want ipv4 or ipv6", family));
  QNET_TRY(ValidateIfName(ifname));
  if (knob.empty() || knob.find('/') != std::string_view::npos)
    return Fail(Errc::kInvalidArgument, fmt::format("bad sysctl knob '{}'", knob));
  std::string key = fmt::format("net/{}/conf/{}/{}", family, ifname, knob);
  QNET_TRY(ValidateSysctlKey(key));
  return key;
}

Status SetIfSysctl(std::string_view family, std::string_view ifname, std::string_view knob,
                   std::string_view value) {
  QNET_ASSIGN_OR_RETURN(std::string key, IfSysctlKey(family, ifname, knob));
  return SetSysctl(key, value);
}

Result<std::string> GetIfSysctl(std::string_view family, std::string_view ifname,
                                std::string_view knob) {
  QNET_ASSIGN_OR_RETURN(std::string key, IfSysctlKey(family, ifname, knob));
  return GetSysctl(key);
}

Status SetSysctlInNetns(int netns_fd, std::string_view key, std::string_view value) {
  QNET_TRY(ValidateSysctlKey(key));
  return RunInNetns(netns_fd, [&] { return SetSysctl(key, value); });
}

Result<std::string> GetSysctlInNetns(int netns_fd, std::string_view key) {
  QNET_TRY(ValidateSysctlKey(key));
  Result<std::string> out = Fail(Errc::kInternal, "unset");
  QNET_TRY(RunInNetns(netns_fd, [&]() -> Status {
    out = GetSysctl(key);
    return OkStatus();
  }));
  return out;
}

}  // namespace qnet::netlink
