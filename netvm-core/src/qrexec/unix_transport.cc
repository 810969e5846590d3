// UnixSocketTransport: Qubes' vchan-over-sockets naming (transport.h).
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "deadline.h"
#include "qnet/qrexec/transport.h"

namespace qnet::qrexec {
namespace {

Result<sockaddr_un> SocketAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("{}: longer than a Unix socket path may be", path));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

int PollMs(const Deadline& deadline) {
  return static_cast<int>(deadline.Remaining().value_or(std::chrono::milliseconds(-1)).count());
}

bool ParseU32(std::string_view text, uint32_t& out) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::string VchanSocketName(const VchanAddress& a) {
  return fmt::format("vchan.{}.{}.{}.sock", a.server_domain, a.client_domain, a.port);
}

Result<VchanAddress> ParseVchanSocketName(std::string_view name) {
  constexpr std::string_view kPrefix = "vchan.";
  constexpr std::string_view kSuffix = ".sock";
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("'{}': not vchan.SERVER.CLIENT.PORT.sock", name));
  }
  std::string_view rest =
      name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  uint32_t parts[3];
  const char* field[] = {"server domain", "client domain", "port"};
  for (int i = 0; i < 3; ++i) {
    size_t dot = i < 2 ? rest.find('.') : rest.size();
    if (dot == std::string_view::npos || !ParseU32(rest.substr(0, dot), parts[i])) {
      return Error(Errc::kInvalidArgument, fmt::format("'{}': bad {}", name, field[i]));
    }
    rest.remove_prefix(i < 2 ? dot + 1 : dot);
  }
  return VchanAddress{parts[0], parts[1], parts[2]};
}

std::string UnixSocketTransport::PathOf(const VchanAddress& address) const {
  return dir_ + "/" + VchanSocketName(address);
}

Result<UniqueFd> UnixSocketTransport::Accept(const VchanAddress& address,
                                             std::chrono::milliseconds timeout) {
  std::string path = PathOf(address);
  QNET_ASSIGN_OR_RETURN(sockaddr_un addr, SocketAddress(path));
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener) return Fail(ErrnoError("socket", errno));
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    if (err == EADDRINUSE) {
      return Fail(Errc::kAlreadyExists, fmt::format("{}: already served", path), err);
    }
    return Fail(ErrnoError(fmt::format("bind {}", path), err));
  }
  // One connection per vchan: the name is free again as soon as it is taken.
  struct Unlink {
    std::string path;
    ~Unlink() { ::unlink(path.c_str()); }
  } unlink_on_return{path};
  if (::listen(listener.get(), 1) != 0)
    return Fail(ErrnoError(fmt::format("listen {}", path), errno));
  Deadline deadline = Deadline::After(timeout);
  pollfd pfd{listener.get(), POLLIN, 0};
  while (true) {
    int n = ::poll(&pfd, 1, PollMs(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrnoError("poll", errno));
    if (n == 0)
      return Fail(Errc::kTimeout, fmt::format("{}: no client within {} ms", path, timeout.count()));
    UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (conn) return conn;
    if (errno != EINTR && errno != EAGAIN)
      return Fail(ErrnoError(fmt::format("accept {}", path), errno));
  }
}

Result<UniqueFd> UnixSocketTransport::Connect(const VchanAddress& address,
                                              std::chrono::milliseconds timeout) {
  std::string path = PathOf(address);
  QNET_ASSIGN_OR_RETURN(sockaddr_un addr, SocketAddress(path));
  Deadline deadline = Deadline::After(timeout);
  auto backoff = std::chrono::microseconds(100);
  while (true) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return Fail(ErrnoError("socket", errno));
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    int err = errno;
    // Not there yet (or its backlog is full): the server may start later.
    if (err != ENOENT && err != ECONNREFUSED && err != EAGAIN) {
      return Fail(ErrnoError(fmt::format("connect {}", path), err));
    }
    if (*deadline.Remaining() == std::chrono::milliseconds(0)) {
      return Fail(Errc::kTimeout, fmt::format("{}: no server within {} ms", path, timeout.count()),
                  err);
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::microseconds(20000));
  }
}

}  // namespace qnet::qrexec
