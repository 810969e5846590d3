#include "qnet/base/fd.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace qnet {

Result<UniqueFd> OpenFd(const std::string& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return Fail(ErrnoError(fmt::format("open {}", path), errno));
  return UniqueFd(fd);
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrnoError("write", errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Result<std::string> ReadAll(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrnoError("read", errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> ReadFile(const std::string& path) {
  QNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenFd(path, O_RDONLY));
  auto r = ReadAll(fd.get());
  if (!r) return Fail(r.error().Wrap(path));
  return r;
}

Status WriteFile(const std::string& path, std::string_view data, int mode) {
  QNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenFd(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  Status s = WriteAll(fd.get(), data);
  if (!s) return Fail(s.error().Wrap(path));
  return OkStatus();
}

Status WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  std::string tmp = path + ".tmp";
  QNET_TRY(WriteFile(tmp, data, mode));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Fail(ErrnoError(fmt::format("rename {}", path), errno));
  return OkStatus();
}

Status MakeDirs(const std::string& path, int mode) {
  if (path.empty()) return OkStatus();
  for (size_t pos = 1;; ++pos) {
    pos = path.find('/', pos);
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST)
      return Fail(ErrnoError(fmt::format("mkdir {}", part), errno));
    if (pos == std::string::npos) break;
  }
  return OkStatus();
}

}  // namespace qnet
