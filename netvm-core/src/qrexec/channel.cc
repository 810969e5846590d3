#include "qnet/qrexec/channel.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace qnet::qrexec {
namespace {

using Clock = std::chrono::steady_clock;
using Expiry = std::optional<Clock::time_point>;

// Larger reads only help a payload of a full data chunk arrive in one call.
constexpr size_t kReadChunk = kMaxDataChunk + kHeaderSize;
constexpr size_t kControlSize = CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage);

Expiry ExpiryAfter(std::optional<std::chrono::milliseconds> timeout) {
  if (!timeout) return std::nullopt;
  return Clock::now() + *timeout;
}

// Waits until fd is ready for events; every syscall here is non-blocking so a
// deadline holds whatever mode the socket is in.
Status WaitFor(int fd, short events, const Expiry& deadline, std::string_view what) {
  while (true) {
    int timeout_ms = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) {
        return Fail(Errc::kTimeout, fmt::format("qrexec channel: {}: timed out", what));
      }
      timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX));
    }
    pollfd pfd{fd, events, 0};
    int n = ::poll(&pfd, 1, timeout_ms);
    if (n > 0) return OkStatus();
    if (n < 0 && errno != EINTR) return ErrnoError("qrexec channel: poll", errno);
  }
}

Error PeerClosed(std::string_view detail) {
  return Error(Errc::kUnavailable, fmt::format("qrexec channel: peer closed{}", detail));
}

// Takes ownership of every fd in the control data, so none leaks even when the
// message is then refused.
void CollectFds(msghdr& msg, std::vector<UniqueFd>& out) {
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* data = CMSG_DATA(cmsg);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
      out.emplace_back(fd);
    }
  }
}

}  // namespace

Channel::Channel(UniqueFd socket) : socket_(std::move(socket)) {}

Result<std::pair<Channel, Channel>> Channel::Pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoError("qrexec channel: socketpair", errno);
  }
  return std::pair<Channel, Channel>(Channel(UniqueFd(fds[0])), Channel(UniqueFd(fds[1])));
}

Status Channel::Send(MsgType type, std::string_view payload,
                     std::optional<std::chrono::milliseconds> timeout) {
  Message message{type, std::string(payload), {}};
  return Send(message, timeout);
}

Status Channel::Send(const Message& message, std::optional<std::chrono::milliseconds> timeout) {
  if (send_broken_) {
    return Fail(Errc::kFailedPrecondition,
                "qrexec channel: send side broken by an earlier error: " + send_broken_->message());
  }
  if (message.fds.size() > kMaxFdsPerMessage) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("qrexec channel: {} fds with one message, the limit is {}",
                            message.fds.size(), kMaxFdsPerMessage));
  }
  Result<std::string> bytes = EncodeFrame(message.type, message.payload);
  if (!bytes) return bytes.error().Wrap("qrexec channel: send");
  return SendBytes(*bytes, message.fds, ExpiryAfter(timeout));
}

Status Channel::SendBytes(std::string_view bytes, const std::vector<UniqueFd>& fds,
                          Expiry deadline) {
  alignas(cmsghdr) unsigned char control[kControlSize];
  size_t sent = 0;
  bool fds_pending = !fds.empty();
  while (sent < bytes.size()) {
    iovec iov{const_cast<char*>(bytes.data() + sent), bytes.size() - sent};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fds_pending) {
      // The fds ride on the message's first byte: only the first sendmsg that
      // succeeds carries them.
      std::memset(control, 0, sizeof control);
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      for (size_t i = 0; i < fds.size(); ++i) {
        int fd = fds[i].get();
        std::memcpy(CMSG_DATA(cmsg) + i * sizeof(int), &fd, sizeof(int));
      }
    }
    ssize_t n = ::sendmsg(socket_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      fds_pending = false;
      continue;
    }
    int err = errno;
    Status failed;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      failed = WaitFor(socket_.get(), POLLOUT, deadline, "send");
      if (failed) continue;
    } else if (err == EPIPE || err == ECONNRESET) {
      failed = PeerClosed("");
    } else {
      failed = ErrnoError("qrexec channel: sendmsg", err);
    }
    // Part of a message on the wire leaves the peer mid-frame for good.
    if (sent > 0) send_broken_ = failed.error();
    return failed;
  }
  return OkStatus();
}

Result<Message> Channel::Receive(std::optional<std::chrono::milliseconds> timeout) {
  if (receive_broken_) {
    return Fail(Errc::kFailedPrecondition,
                "qrexec channel: receive side broken by an earlier "
                "error: " +
                    receive_broken_->message());
  }
  Expiry deadline = ExpiryAfter(timeout);
  while (true) {
    Result<std::optional<Frame>> frame = decoder_.Next();
    if (!frame) {
      receive_broken_ = frame.error();
      pending_fds_.clear();
      return frame.error().Wrap("qrexec channel");
    }
    if (frame->has_value()) {
      Frame& f = **frame;
      Message message{f.type, std::move(f.payload), std::move(pending_fds_)};
      pending_fds_.clear();
      return message;
    }
    QNET_TRY(ReadSome(decoder_.BytesWanted(), deadline));
  }
}

Status Channel::ReadSome(size_t want, Expiry deadline) {
  if (want == 0) return Fail(Errc::kInternal, "qrexec channel: read of 0 bytes requested");
  std::string buf(std::min(want, kReadChunk), '\0');
  alignas(cmsghdr) unsigned char control[kControlSize];
  while (true) {
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(socket_.get(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        QNET_TRY(WaitFor(socket_.get(), POLLIN, deadline, "receive"));
        continue;
      }
      if (errno == ECONNRESET) return PeerClosed("");
      return ErrnoError("qrexec channel: recvmsg", errno);
    }
    CollectFds(msg, pending_fds_);
    if (msg.msg_flags & MSG_CTRUNC) {
      receive_broken_ =
          Error(Errc::kProtocol, fmt::format("qrexec channel: more than {} fds with one message "
                                             "(control data truncated)",
                                             kMaxFdsPerMessage));
      pending_fds_.clear();
      return *receive_broken_;
    }
    if (n == 0) {
      Status truncated = decoder_.Finish();
      return PeerClosed(truncated ? "" : " mid-message: " + truncated.error().message());
    }
    decoder_.Feed(std::string_view(buf.data(), static_cast<size_t>(n)));
    return OkStatus();
  }
}

Status Channel::CloseWrite() {
  if (::shutdown(socket_.get(), SHUT_WR) != 0) return ErrnoError("qrexec channel: shutdown", errno);
  return OkStatus();
}

}  // namespace qnet::qrexec
