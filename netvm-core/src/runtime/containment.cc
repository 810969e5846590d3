#include "qnet/runtime/containment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <charconv>

namespace qnet::runtime {
namespace {

constexpr size_t kMaxContainmentBytes = 64 * 1024;

Status CheckPath(std::string_view key, const std::string& v, int line) {
  if (!v.empty() && v.front() != '/')
    return Fail(Errc::kInvalidArgument,
                fmt::format("containment line {}: {}: '{}' is not an absolute path", line, key, v));
  return OkStatus();
}

}  // namespace

std::string FormatContainment(const Containment& c) {
  return fmt::format("id_base={}\nhome={}\netc={}\ntemplate={}\n{}", c.id_base, c.home_dir,
                     c.etc_dir, c.template_dir,
                     c.template_writable ? "template_mode=writable\n" : "");
}

Result<Containment> ParseContainment(std::string_view text) {
  Containment c;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || line.find('\0') != std::string_view::npos)
      return Fail(Errc::kInvalidArgument,
                  fmt::format("containment line {}: not key=value", line_no));
    const std::string_view key = line.substr(0, eq);
    const std::string value(line.substr(eq + 1));
    if (key == "id_base") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), c.id_base);
      if (ec != std::errc() || p != value.data() + value.size())
        return Fail(
            Errc::kInvalidArgument,
            fmt::format("containment line {}: id_base: '{}' is not a host id", line_no, value));
    } else if (key == "template_mode") {
      if (value != "overlay" && value != "writable")
        return Fail(Errc::kInvalidArgument,
                    fmt::format("containment line {}: template_mode: '{}' is not overlay|writable",
                                line_no, value));
      c.template_writable = value == "writable";
    } else if (key == "home" || key == "etc" || key == "template") {
      QNET_TRY(CheckPath(key, value, line_no));
      (key == "home" ? c.home_dir : key == "etc" ? c.etc_dir : c.template_dir) = value;
    } else {
      return Fail(Errc::kInvalidArgument,
                  fmt::format("containment line {}: unknown key '{}'", line_no, key));
    }
  }
  if (c.id_base == 0)
    return Fail(Errc::kInvalidArgument, "containment: no id_base (a qube never runs uncontained)");
  if (c.home_dir.empty()) return Fail(Errc::kInvalidArgument, "containment: no home");
  if (c.etc_dir.empty() && c.template_dir.empty())
    return Fail(Errc::kInvalidArgument, "containment: neither etc nor template");
  if (c.template_writable && c.template_dir.empty())
    return Fail(Errc::kInvalidArgument, "containment: template_mode writable without a template");
  return c;
}

Result<UniqueFd> ContainmentFd(const Containment& c) {
  for (const std::string* v : {&c.home_dir, &c.etc_dir, &c.template_dir})
    if (v->find_first_of(std::string_view("\n\0", 2)) != std::string::npos)
      return Fail(Errc::kInvalidArgument,
                  fmt::format("containment: '{}' holds a newline or NUL", *v));
  UniqueFd fd(::memfd_create("qnet-containment", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return Fail(ErrnoError("memfd_create", errno));
  QNET_TRY(WriteAll(fd.get(), FormatContainment(c)));
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
    return Fail(ErrnoError("memfd seal", errno));
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return Fail(ErrnoError("memfd seek", errno));
  return fd;
}

Result<Containment> ReadContainment(int fd) {
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrnoError("read containment fd", errno));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxContainmentBytes)
      return Fail(Errc::kInvalidArgument, "containment: more than 64 KiB");
  }
  return ParseContainment(text);
}

}  // namespace qnet::runtime
