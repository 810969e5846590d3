// The shell of wg_uapi.h: one Unix socket connection per operation.
#include "qnet/vpn/wg_uapi.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "qnet/base/unix_socket.h"

namespace qnet::vpn {

Result<std::string> UapiClient::Exchange(std::string_view request) {
  QNET_ASSIGN_OR_RETURN(UniqueFd fd, ConnectUnix(path_));
  // Every blocking call below waits at most the timeout; the loop bounds
  // the total.
  timeval tv{.tv_sec = static_cast<time_t>(timeout_.count() / 1000),
             .tv_usec = static_cast<suseconds_t>(timeout_.count() % 1000 * 1000)};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  // MSG_NOSIGNAL: a daemon that hangs up early is an error, not a SIGPIPE.
  for (size_t off = 0; off < request.size();) {
    if (std::chrono::steady_clock::now() > deadline)
      return Fail(Errc::kTimeout, fmt::format("wireguard UAPI {}: request not taken within {} ms",
                                              path_, timeout_.count()));
    const ssize_t n = ::send(fd.get(), request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return Fail(Errc::kTimeout, fmt::format("wireguard UAPI {}: request not taken within {} ms",
                                              path_, timeout_.count()));
    if (n < 0) return Fail(ErrnoError(fmt::format("wireguard UAPI {}: send", path_), errno));
    off += static_cast<size_t>(n);
  }
  std::string reply;
  char buf[4096];
  while (reply.find("\n\n") == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline)
      return Fail(Errc::kTimeout, fmt::format("wireguard UAPI {}: no complete reply within {} ms",
                                              path_, timeout_.count()));
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return Fail(Errc::kTimeout, fmt::format("wireguard UAPI {}: no complete reply within {} ms",
                                              path_, timeout_.count()));
    if (n < 0) return Fail(ErrnoError(fmt::format("wireguard UAPI {}: read", path_), errno));
    if (n == 0) break;  // the parser reports the cut-off reply
    reply.append(buf, static_cast<size_t>(n));
    if (reply.size() > kMaxReply)
      return Fail(Errc::kProtocol,
                  fmt::format("wireguard UAPI {}: reply larger than {} bytes", path_, kMaxReply));
  }
  // A daemon keeps the connection for more requests: what follows the blank
  // line is not part of this reply.
  const size_t end = reply.find("\n\n");
  if (end != std::string::npos) reply.resize(end + 2);
  return reply;
}

Status UapiClient::SetDevice(const Device& device) {
  QNET_ASSIGN_OR_RETURN(std::string request, BuildUapiSet(device));
  QNET_ASSIGN_OR_RETURN(std::string reply, Exchange(request));
  Status s = ParseUapiErrno(reply);
  if (!s) return Fail(s.error().Wrap(path_));
  return OkStatus();
}

Result<Device> UapiClient::GetDevice() {
  QNET_ASSIGN_OR_RETURN(std::string reply, Exchange(kUapiGet));
  auto d = ParseUapiGet(reply);
  if (!d) return Fail(d.error().Wrap(path_));
  return d;
}

}  // namespace qnet::vpn
