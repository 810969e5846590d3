#include "qnet/nft/transaction.h"

#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <vector>

#include "nl_io.h"

namespace qnet::nft {
namespace {

// The kernel handles a batch inside sendmsg and queues its answers before
// returning: at most one skb per message (every message refused); each costs
// well under this much receive buffer (skb truesize), so the buffer must
// hold them all or answers are lost.
constexpr size_t kRcvBytesPerAck = 2048;
constexpr size_t kSndSlack = 64 * 1024;

int SockOptInt(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) != 0) return 0;
  return v;
}

// Best effort: without CAP_NET_ADMIN the FORCE options fail and a too large
// batch then fails with a clear EMSGSIZE/ENOBUFS error instead.
void GrowBuffer(int fd, int get_name, int force_name, size_t need) {
  const size_t clamped = std::min<size_t>(need, 1u << 30);
  if (static_cast<size_t>(SockOptInt(fd, SOL_SOCKET, get_name)) >= clamped) return;
  int v = static_cast<int>(clamped);
  setsockopt(fd, SOL_SOCKET, force_name, &v, sizeof v);
}

std::optional<std::string> ExtAckMessage(const nlmsghdr* nlh, const nlmsgerr* err) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return std::nullopt;
  size_t offset = sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
  if (NLMSG_HDRLEN + offset > nlh->nlmsg_len) return std::nullopt;
  std::optional<std::string> msg;
  auto cb = [](const nlattr* attr, void* data) -> int {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
      *static_cast<std::optional<std::string>*>(data) = mnl_attr_get_str(attr);
    return MNL_CB_OK;
  };
  mnl_attr_parse(nlh, static_cast<unsigned>(offset), cb, &msg);
  return msg;
}

// Reads the kernel's answers to a batch: an error for each refused message
// and the last message's ACK (or error), in message order, or one error on
// the batch header when the kernel refused the whole batch. Keeps the first
// error.
class AckDrain {
 public:
  AckDrain(const Batch& batch, uint32_t port) : batch_(batch), port_(port) {}

  bool done() const { return last_answered_ || batch_refused_; }
  const std::optional<Error>& error() const { return error_; }

  void Consume(const char* buf, size_t len) {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
    int left = static_cast<int>(len);
    for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != port_) continue;
      if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nlmsgerr)) continue;
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      OnAck(nlh, err);
    }
  }

 private:
  void OnAck(const nlmsghdr* nlh, const nlmsgerr* err) {
    const uint32_t seq = nlh->nlmsg_seq;
    if (err->error != 0 && !error_) {
      const int e = -err->error;
      std::string msg = fmt::format("nft: {}: {}", batch_.Describe(seq), std::strerror(e));
      if (auto ext = ExtAckMessage(nlh, err)) msg += fmt::format(" ({})", *ext);
      error_ = Error(Errc::kNetlink, std::move(msg), e);
    }
    // An error on the batch header (no permission, out of memory, commit
    // failure) is the only answer the kernel gives to the whole batch.
    if (seq == batch_.begin_seq() && err->error != 0) batch_refused_ = true;
    if (seq + 1 == batch_.end_seq()) last_answered_ = true;
  }

  const Batch& batch_;
  uint32_t port_;
  bool last_answered_ = false;
  bool batch_refused_ = false;
  std::optional<Error> error_;
};

Status SendBatch(int fd, const std::vector<uint8_t>& bytes, size_t messages) {
  const sockaddr_nl kernel{.nl_family = AF_NETLINK};
  for (;;) {
    ssize_t n = sendto(fd, bytes.data(), bytes.size(), 0,
                       reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
    if (n >= 0) return OkStatus();
    if (errno == EINTR) continue;
    return Fail(ErrnoError(
        fmt::format("nft: send batch of {} messages ({} bytes)", messages, bytes.size()), errno));
  }
}

}  // namespace

Status Commit(netlink::Socket& nfsock, const Batch& batch, std::chrono::milliseconds timeout) {
  if (!batch.status().ok()) return Fail(batch.status().error().Wrap("nft"));
  if (batch.empty()) return OkStatus();
  const std::vector<uint8_t> bytes = batch.Encode();
  const int fd = mnl_socket_get_fd(nfsock.get());
  std::vector<char> buf(4096);

  // Whatever an earlier user left queued (late ACKs, a pending ENOBUFS)
  // would be taken for answers to this batch.
  internal::DiscardQueued(fd);
  GrowBuffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, bytes.size() + kSndSlack);
  GrowBuffer(fd, SO_RCVBUF, SO_RCVBUFFORCE, (batch.size() + 2) * kRcvBytesPerAck);
  // ACKs need only the refused message's header, not a copy of it.
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);

  QNET_TRY(SendBatch(fd, bytes, batch.size()));

  AckDrain drain(batch, nfsock.port_id());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!drain.done()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd, POLLIN, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Fail(ErrnoError("nft: poll for ACKs", errno));
    if (ready == 0)
      return Fail(Errc::kTimeout,
                  fmt::format("nft: no answer to a batch of {} messages within {} ms", batch.size(),
                              timeout.count()));
    Result<size_t> n = internal::RecvDatagram(fd, buf, 0);
    if (!n && n.error().sys_errno() == ENOBUFS)
      return Fail(Errc::kNetlink,
                  fmt::format("nft: answers lost (receive buffer overflow) for a batch of {} "
                              "messages; the batch may or may not be applied: read the table back",
                              batch.size()),
                  ENOBUFS);
    if (!n) return Fail(n.error().Wrap("nft: ACKs"));
    drain.Consume(buf.data(), *n);
  }
  if (drain.error()) return Fail(*drain.error());
  return OkStatus();
}

}  // namespace qnet::nft
