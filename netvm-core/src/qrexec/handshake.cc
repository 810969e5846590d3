#include <fmt/format.h>

#include "deadline.h"
#include "qnet/qrexec/protocol.h"
#include "qnet/qrexec/service.h"

namespace qnet::qrexec {

Result<uint32_t> NegotiateHandshake(Channel& channel,
                                    std::optional<std::chrono::milliseconds> timeout) {
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
  Result<uint32_t> version = NegotiateVersion(kProtocolVersion, peer->version);
  if (!version) return version.error().Wrap("qrexec handshake");
  return version;
}

Status Handshake(Channel& channel, std::optional<std::chrono::milliseconds> timeout) {
  return Status(NegotiateHandshake(channel, timeout));
}

}  // namespace qnet::qrexec
