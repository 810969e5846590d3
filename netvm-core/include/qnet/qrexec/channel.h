// qrexec::Channel: qrexec messages over one connected SOCK_STREAM Unix
// socket, with file descriptors passed as SCM_RIGHTS.
//
// Wire: each message is header + payload (frame.h). A message's fds ride on
// its first byte (one sendmsg carries the header, the payload and the
// SCM_RIGHTS control message). Receive never reads past the end of the
// message in progress, so fds are always attributed to the right message.
//
// Ownership: the Channel owns its socket. Send borrows the fds of a Message
// (the kernel duplicates them; the caller keeps and closes its own); Receive
// returns fds owned by the returned Message, opened with O_CLOEXEC.
//
// Thread-safety: one thread may Send while another Receives; two concurrent
// Sends or two concurrent Receives on one Channel are not allowed.
//
// Errors: peer closed -> Errc::kUnavailable ("peer closed"); a timeout ->
// kTimeout; a malformed message -> kProtocol naming the field; a syscall
// failure -> kIo with errno. After a kProtocol error, or a timeout or failure
// in the middle of a Send, the stream is out of step and that direction keeps
// failing with kFailedPrecondition naming the first error. A Receive timeout
// keeps the partial message: the next Receive continues it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"
#include "qnet/qrexec/frame.h"

namespace qnet::qrexec {

// The most fds one message may carry.
inline constexpr size_t kMaxFdsPerMessage = 64;

// A message with the fds it carries. Move-only (it may own fds).
struct Message {
  MsgType type = MsgType::kHello;
  std::string payload;
  std::vector<UniqueFd> fds;
};

class Channel {
 public:
  // Takes a connected SOCK_STREAM AF_UNIX socket (blocking or not: every call
  // waits with poll()).
  explicit Channel(UniqueFd socket);
  // Two connected channels (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)).
  static Result<std::pair<Channel, Channel>> Pair();

  Channel(Channel&&) noexcept = default;
  Channel& operator=(Channel&&) noexcept = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel() = default;

  // Sends one message. kInvalidArgument (nothing sent) if the payload length
  // is invalid for the type or there are more than kMaxFdsPerMessage fds.
  // timeout bounds the wait for socket buffer space; nullopt waits forever.
  Status Send(const Message& message,
              std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Convenience: a message without fds.
  Status Send(MsgType type, std::string_view payload,
              std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // Receives the next whole message. nullopt timeout waits forever.
  Result<Message> Receive(std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // The socket, for poll() (readable = Receive will make progress).
  int fd() const { return socket_.get(); }
  // shutdown(SHUT_WR): the peer's Receive sees "peer closed".
  Status CloseWrite();

 private:
  Status SendBytes(std::string_view bytes, const std::vector<UniqueFd>& fds,
                   std::optional<std::chrono::steady_clock::time_point> deadline);
  Status ReadSome(size_t want, std::optional<std::chrono::steady_clock::time_point> deadline);

  UniqueFd socket_;
  FrameDecoder decoder_;
  std::vector<UniqueFd> pending_fds_;  // fds of the message being received
  std::optional<Error> send_broken_;
  std::optional<Error> receive_broken_;
};

}  // namespace qnet::qrexec
