#include "qnet/netlink/socket.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "qnet/base/fd.h"

namespace qnet::netlink {

Result<Socket> Socket::Open(int bus) {
  MnlSocketPtr s(mnl_socket_open2(bus, SOCK_CLOEXEC));
  if (!s) return Fail(ErrnoError("netlink socket", errno));
  if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return Fail(ErrnoError("netlink bind", errno));
  // Large batches and dumps: make room so the kernel does not drop ACKs.
  int size = 8 << 20;
  setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  int one = 1;
  setsockopt(mnl_socket_get_fd(s.get()), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  uint32_t port = mnl_socket_get_portid(s.get());
  Socket sock(std::move(s), port);
  sock.seq_ = static_cast<uint32_t>(::time(nullptr));
  return sock;
}

Result<Socket> Socket::OpenInNetns(int bus, int netns_fd) {
  Result<Socket> out = Fail(Errc::kInternal, "unset");
  Status s = RunInNetns(netns_fd, [&]() -> Status {
    out = Open(bus);
    return OkStatus();
  });
  if (!s) return Fail(s.error());
  return out;
}

Status Socket::Send(const void* buf, size_t len) {
  if (mnl_socket_sendto(sock_.get(), buf, len) < 0) return Fail(ErrnoError("netlink send", errno));
  return OkStatus();
}

Status Socket::Receive(uint32_t seq, const std::string& what, const MessageCallback& cb) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  struct Ctx {
    const MessageCallback* cb;
  } ctx{&cb};
  auto data_cb = [](const nlmsghdr* nlh, void* data) -> int {
    auto* c = static_cast<Ctx*>(data);
    if (*c->cb) return (*c->cb)(nlh);
    return MNL_CB_OK;
  };
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrnoError(what + ": netlink receive", errno));
    }
    int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, port_id_, data_cb, &ctx);
    if (r == MNL_CB_ERROR) return Fail(Error(Errc::kNetlink, fmt::format("{}: {}", what, std::strerror(errno)), errno));
    if (r == MNL_CB_STOP) return OkStatus();
  }
}

Status Socket::Request(const nlmsghdr* nlh, const std::string& what, const MessageCallback& cb) {
  QNET_TRY(Send(nlh, nlh->nlmsg_len));
  return Receive(nlh->nlmsg_seq, what, cb);
}

Status RunInNetns(int netns_fd, const std::function<Status()>& fn) {
  auto self = OpenFd("/proc/thread-self/ns/net", O_RDONLY);
  if (!self) return Fail(self.error());
  if (::setns(netns_fd, CLONE_NEWNET) != 0) return Fail(ErrnoError("setns net", errno));
  Status s = fn();
  if (::setns(self->get(), CLONE_NEWNET) != 0) {
    // The thread is stranded in the wrong namespace; nothing safe is left to do.
    std::abort();
  }
  return s;
}

}  // namespace qnet::netlink
