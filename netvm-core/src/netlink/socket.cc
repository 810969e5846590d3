#include "qnet/netlink/socket.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "qnet/base/fd.h"

namespace qnet::netlink {
namespace {

// The kernel's extended-ack text (NLMSGERR_ATTR_MSG) of the NLMSG_ERROR for
// seq in buf, or "" if there is none: "Invalid argument" alone rarely says
// which attribute the kernel disliked.
std::string ExtAckMessage(const char* buf, size_t len, uint32_t seq) {
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
  int remaining = static_cast<int>(len);
  for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
    if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != seq) continue;
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) return {};
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    size_t offset = sizeof(nlmsgerr);
    // Unless capped, the kernel echoes the whole request before the TLVs.
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
    if (mnl_nlmsg_size(offset) > nlh->nlmsg_len) return {};
    const char* start = static_cast<const char*>(mnl_nlmsg_get_payload_offset(nlh, offset));
    int left = static_cast<int>(reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len - start);
    for (const auto* attr = reinterpret_cast<const nlattr*>(start); mnl_attr_ok(attr, left);
         left -= static_cast<int>(MNL_ALIGN(attr->nla_len)), attr = mnl_attr_next(attr)) {
      if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG) continue;
      const char* text = static_cast<const char*>(mnl_attr_get_payload(attr));
      return std::string(text, strnlen(text, mnl_attr_get_payload_len(attr)));
    }
    return {};
  }
  return {};
}

}  // namespace

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
  // Dumps come in messages sized by the largest read on the socket (up to
  // 32 KiB): a smaller buffer would truncate them.
  std::vector<char> buf(64 * 1024);
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
    if (r == MNL_CB_ERROR) {
      int err = errno;
      std::string ext = ExtAckMessage(buf.data(), static_cast<size_t>(n), seq);
      std::string msg = fmt::format("{}: {}", what, std::strerror(err));
      if (!ext.empty()) msg += fmt::format(" ({})", ext);
      return Fail(Error(Errc::kNetlink, std::move(msg), err));
    }
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

Error ClassifyNetlinkError(Error e) {
  if (e.code() != Errc::kNetlink) return e;
  switch (e.sys_errno()) {
    case ENODEV:
    case ENOENT:
    case ESRCH:
      return Error(Errc::kNotFound, e.message(), e.sys_errno());
    case EEXIST:
      return Error(Errc::kAlreadyExists, e.message(), e.sys_errno());
    case EPERM:
    case EACCES:
      return Error(Errc::kPermissionDenied, e.message(), e.sys_errno());
    default:
      return e;
  }
}

}  // namespace qnet::netlink
