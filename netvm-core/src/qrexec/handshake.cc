#include <fmt/format.h>

#include "deadline.h"
#include "qnet/qrexec/service.h"

namespace qnet::qrexec {

Status Handshake(Channel& channel, std::optional<std::chrono::milliseconds> timeout) {
  Deadline deadline = Deadline::After(timeout);
  // Sending first on both ends cannot deadlock: a HELLO fits any socket buffer.
  if (Status s =
          channel.Send(MsgType::kHello, EncodeHello({kProtocolVersion}), deadline.Remaining());
      !s) {
    return s.error().Wrap("qrexec handshake");
  }
  Result<Message> hello = channel.Receive(deadline.Remaining());
  if (!hello) return hello.error().Wrap("qrexec handshake");
  if (hello->type != MsgType::kHello) {
    return Fail(Errc::kProtocol, fmt::format("qrexec handshake: expected MSG_HELLO, got {}",
                                             MsgTypeName(hello->type)));
  }
  Result<PeerInfo> peer = DecodeHello(hello->payload);
  if (!peer) return peer.error().Wrap("qrexec handshake");
  if (peer->version != kProtocolVersion) {
    return Fail(Errc::kProtocol,
                fmt::format("qrexec handshake: peer speaks qrexec protocol version {}, we speak {}",
                            peer->version, kProtocolVersion));
  }
  return OkStatus();
}

}  // namespace qnet::qrexec
