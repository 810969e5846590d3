// The qrexec protocol around the messages of frame.h: version negotiation,
// which message may travel in which direction on which link in which
// negotiated version, and the state machine of one link. Pure: no I/O.
//
// Qubes runs three kinds of link (see docs/architecture.md, "qrexec"):
//   control  daemon <-> agent, one per qube, for its whole life
//   client   a local client (qrexec-client, qnet) <-> the daemon, one per
//            command: HELLO both ways, the command, the daemon's 8-byte
//            reply naming the data channel's port, then the link closes
//   data     requester <-> service, one per call, with its own HELLO:
//            DATA_STDIN to the service; DATA_STDOUT, DATA_STDERR and
//            DATA_EXIT_CODE back; an empty DATA_* is that stream's EOF
// Every link starts with MSG_HELLO from both ends; the version used is
// min(ours, theirs), refused below kMinProtocolVersion.
//
// Errors are Errc::kProtocol with a message naming the message and the rule
// ("MSG_DATA_STDOUT may not travel from a requester to a service"). Nothing
// here asserts on input.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "qnet/base/result.h"
#include "qnet/qrexec/frame.h"

namespace qnet::qrexec {

// A link and the direction a message travels on it.
enum class Route : uint8_t {
  kDaemonToAgent,
  kAgentToDaemon,
  kClientToDaemon,
  kDaemonToClient,
  kToService,    // data channel, requester -> service
  kFromService,  // data channel, service -> requester
};

// "from the daemon to an agent", ...
std::string_view RouteName(Route route);
// The route of the replies to messages on `route` (the other direction).
Route Reverse(Route route);

// The version both ends use: min(ours, theirs). kProtocol if theirs is below
// kMinProtocolVersion: "peer speaks qrexec protocol version 2; the oldest qnet
// speaks is 3". kInvalidArgument if ours is below it (a bug in the caller).
Result<uint32_t> NegotiateVersion(uint32_t ours, uint32_t theirs);

// Checks that a whole frame may travel on `route` in `version`: its type is
// one this direction carries in this version, and its payload has the layout
// this direction uses (a daemon's 8-byte port reply only to a client, a
// 40-byte SERVICE_CONNECT, a command line with its NUL, DATA_* no larger than
// MaxDataChunk(version)). HELLO passes on every route (SessionState orders
// it).
Status CheckRoute(Route route, uint32_t version, const Frame& frame);

// The receive side of one link: feed it every frame that arrives, in order.
// It requires HELLO first (and only once) and negotiates the version, checks
// each later frame with CheckRoute, and orders the rest:
//   kToService      no DATA_STDIN after its EOF; finished at that EOF
//   kFromService    no STDOUT/STDERR after that stream's EOF, nothing after
//                   DATA_EXIT_CODE; finished at the exit code
//   kClientToDaemon one command; finished after it
//   kDaemonToClient one port reply of the command's type; finished after it
//   control routes  any number of messages, never finished
// After an error the state is poisoned: every later OnFrame returns it.
// A value type; not thread-safe.
class SessionState {
 public:
  explicit SessionState(Route inbound, uint32_t our_version = kProtocolVersion);

  Status OnFrame(const Frame& frame);

  Route inbound() const { return inbound_; }
  // The negotiated version, once the peer's HELLO is in.
  std::optional<uint32_t> version() const { return version_; }
  // True when this direction can carry nothing more (table above).
  bool finished() const { return finished_; }
  // The exit code, on kFromService once finished.
  std::optional<int32_t> exit_code() const { return exit_code_; }

 private:
  Status Accept(const Frame& frame);
  Status AcceptData(const Frame& frame);

  Route inbound_;
  uint32_t our_version_;
  std::optional<uint32_t> version_;
  bool stdin_eof_ = false;
  bool stdout_eof_ = false;
  bool stderr_eof_ = false;
  bool finished_ = false;
  std::optional<int32_t> exit_code_;
  std::optional<Error> error_;
};

}  // namespace qnet::qrexec
