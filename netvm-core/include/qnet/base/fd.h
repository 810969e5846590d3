// UniqueFd: sole owner of a file descriptor; closes it on destruction.
#pragma once

#include <unistd.h>

#include <string>
#include <utility>

#include "qnet/base/result.h"

namespace qnet {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC; the error names the path.
Result<UniqueFd> OpenFd(const std::string& path, int flags, int mode = 0);

// Writes all of data, retrying on EINTR and short writes.
Status WriteAll(int fd, std::string_view data);
// Reads until EOF.
Result<std::string> ReadAll(int fd);
// Reads a whole (small) file.
Result<std::string> ReadFile(const std::string& path);
// Writes a whole file (O_TRUNC|O_CREAT), e.g. a /proc/sys knob.
Status WriteFile(const std::string& path, std::string_view data, int mode = 0644);
// Writes to path.tmp then renames it over path.
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0600);
// mkdir -p with the given mode for the directories it creates.
Status MakeDirs(const std::string& path, int mode = 0755);

}  // namespace qnet
