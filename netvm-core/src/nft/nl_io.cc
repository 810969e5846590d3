#include "nl_io.h"

#include <sys/socket.h>

#include <cerrno>

namespace qnet::nft::internal {

Result<size_t> RecvDatagram(int fd, std::vector<char>& buf, int flags) {
  for (;;) {
    // A zero-length peek reports the size and leaves the recorded maximum alone.
    ssize_t size = recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC | flags);
    if (size < 0 && errno == EINTR) continue;
    if (size < 0) return Fail(ErrnoError("netlink receive", errno));
    if (buf.size() < static_cast<size_t>(size)) buf.resize(static_cast<size_t>(size));
    ssize_t n = recv(fd, buf.data(), static_cast<size_t>(size), flags);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrnoError("netlink receive", errno));
    return static_cast<size_t>(n);
  }
}

void DiscardQueued(int fd) {
  // Bounded: the queue is finite, but never trust a loop on kernel input.
  for (int i = 0; i < (1 << 22); ++i) {
    ssize_t n = recv(fd, nullptr, 0, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && errno != EINTR && errno != ENOBUFS) return;
  }
}

}  // namespace qnet::nft::internal
