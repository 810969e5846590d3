#include "qnet/qrexec/protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace qnet::qrexec {
namespace {

Error ProtocolError(std::string message) { return Error(Errc::kProtocol, std::move(message)); }

// The payload layout a type has on one route (the type's own length limits
// in frame.cc hold on every route).
enum class Layout : uint8_t {
  kAny,             // the type's limits are enough
  kCommand,         // exec_params + NUL-terminated cmdline (more than 8 bytes)
  kPortReply,       // exec_params alone: the daemon's reply to a client
  kServiceConnect,  // exec_params + service_params: 40 bytes
  kData,            // at most MaxDataChunk(version)
};

struct RouteRow {
  Route route;
  MsgType type;
  uint32_t min_version;
  uint32_t max_version;
  Layout layout;
};

constexpr uint32_t kAnyVersion = std::numeric_limits<uint32_t>::max();

// Who sends what, from Qubes' daemon (handle_message_from_agent,
// handle_cmdline_message_from_client), agent (handle_server_cmd) and data
// path (process_io). TRIGGER_SERVICE is version 2's and so refused here.
constexpr RouteRow kRoutes[] = {
    {Route::kDaemonToAgent, MsgType::kExecCmdline, 0, kAnyVersion, Layout::kCommand},
    {Route::kDaemonToAgent, MsgType::kJustExec, 0, kAnyVersion, Layout::kCommand},
    {Route::kDaemonToAgent, MsgType::kServiceConnect, 0, kAnyVersion, Layout::kServiceConnect},
    {Route::kDaemonToAgent, MsgType::kServiceRefused, 0, kAnyVersion, Layout::kAny},
    {Route::kAgentToDaemon, MsgType::kTriggerService, 0, 2, Layout::kAny},
    {Route::kAgentToDaemon, MsgType::kTriggerService3, 3, kAnyVersion, Layout::kAny},
    {Route::kAgentToDaemon, MsgType::kTriggerService4, 4, kAnyVersion, Layout::kAny},
    {Route::kAgentToDaemon, MsgType::kConnectionTerminated, 0, kAnyVersion, Layout::kAny},
    {Route::kClientToDaemon, MsgType::kExecCmdline, 0, kAnyVersion, Layout::kCommand},
    {Route::kClientToDaemon, MsgType::kJustExec, 0, kAnyVersion, Layout::kCommand},
    {Route::kClientToDaemon, MsgType::kServiceConnect, 0, kAnyVersion, Layout::kServiceConnect},
    {Route::kDaemonToClient, MsgType::kExecCmdline, 0, kAnyVersion, Layout::kPortReply},
    {Route::kDaemonToClient, MsgType::kJustExec, 0, kAnyVersion, Layout::kPortReply},
    {Route::kDaemonToClient, MsgType::kServiceConnect, 0, kAnyVersion, Layout::kPortReply},
    {Route::kToService, MsgType::kDataStdin, 0, kAnyVersion, Layout::kData},
    {Route::kFromService, MsgType::kDataStdout, 0, kAnyVersion, Layout::kData},
    {Route::kFromService, MsgType::kDataStderr, 0, kAnyVersion, Layout::kData},
    {Route::kFromService, MsgType::kDataExitCode, 0, kAnyVersion, Layout::kAny},
};

const RouteRow* FindRoute(Route route, MsgType type) {
  for (const RouteRow& row : kRoutes) {
    if (row.route == route && row.type == type) return &row;
  }
  return nullptr;
}

Status CheckLayout(Layout layout, uint32_t version, const Frame& frame) {
  std::string name = MsgTypeName(frame.type);
  size_t len = frame.payload.size();
  switch (layout) {
    case Layout::kAny:
      return OkStatus();
    case Layout::kCommand:
      return Status(DecodeExecParams(frame.payload));
    case Layout::kPortReply:
      return Status(DecodeVchanPort(frame.payload));
    case Layout::kServiceConnect:
      return Status(DecodeServiceConnect(frame.payload));
    case Layout::kData:
      if (len > MaxDataChunk(version)) {
        return ProtocolError(fmt::format("{}: {} bytes exceeds the chunk size {} of version {}",
                                         name, len, MaxDataChunk(version), version));
      }
      return OkStatus();
  }
  return ProtocolError(fmt::format("{}: unknown layout", name));
}

bool IsCommand(MsgType type) {
  return type == MsgType::kExecCmdline || type == MsgType::kJustExec ||
         type == MsgType::kServiceConnect;
}

}  // namespace

std::string_view RouteName(Route route) {
  switch (route) {
    case Route::kDaemonToAgent:
      return "from the daemon to an agent";
    case Route::kAgentToDaemon:
      return "from an agent to the daemon";
    case Route::kClientToDaemon:
      return "from a client to the daemon";
    case Route::kDaemonToClient:
      return "from the daemon to a client";
    case Route::kToService:
      return "from a requester to a service";
    case Route::kFromService:
      return "from a service to a requester";
  }
  return "on an unknown route";
}

Route Reverse(Route route) {
  switch (route) {
    case Route::kDaemonToAgent:
      return Route::kAgentToDaemon;
    case Route::kAgentToDaemon:
      return Route::kDaemonToAgent;
    case Route::kClientToDaemon:
      return Route::kDaemonToClient;
    case Route::kDaemonToClient:
      return Route::kClientToDaemon;
    case Route::kToService:
      return Route::kFromService;
    case Route::kFromService:
      return Route::kToService;
  }
  return route;
}

Result<uint32_t> NegotiateVersion(uint32_t ours, uint32_t theirs) {
  if (ours < kMinProtocolVersion) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("qrexec version {} offered, the oldest qnet speaks is {}", ours,
                             kMinProtocolVersion));
  }
  if (theirs < kMinProtocolVersion) {
    return ProtocolError(
        fmt::format("peer speaks qrexec protocol version {}; the oldest qnet speaks is {}", theirs,
                    kMinProtocolVersion));
  }
  return std::min(ours, theirs);
}

Status CheckRoute(Route route, uint32_t version, const Frame& frame) {
  if (frame.type == MsgType::kHello) return Status(DecodeHello(frame.payload));
  const RouteRow* row = FindRoute(route, frame.type);
  if (row == nullptr) {
    return ProtocolError(
        fmt::format("{} may not travel {}", MsgTypeName(frame.type), RouteName(route)));
  }
  if (version < row->min_version || version > row->max_version) {
    return ProtocolError(fmt::format("{} is not part of qrexec protocol version {}",
                                     MsgTypeName(frame.type), version));
  }
  return CheckLayout(row->layout, version, frame);
}

SessionState::SessionState(Route inbound, uint32_t our_version)
    : inbound_(inbound), our_version_(our_version) {}

Status SessionState::OnFrame(const Frame& frame) {
  if (error_) return *error_;
  Status s = Accept(frame);
  if (!s) error_ = s.error();
  return s;
}

Status SessionState::Accept(const Frame& frame) {
  if (!version_) {
    if (frame.type != MsgType::kHello) {
      return ProtocolError(
          fmt::format("expected MSG_HELLO first, got {}", MsgTypeName(frame.type)));
    }
    QNET_ASSIGN_OR_RETURN(PeerInfo peer, DecodeHello(frame.payload));
    QNET_ASSIGN_OR_RETURN(version_, NegotiateVersion(our_version_, peer.version));
    return OkStatus();
  }
  if (frame.type == MsgType::kHello) return ProtocolError("MSG_HELLO sent twice");
  if (finished_) {
    return ProtocolError(fmt::format("{} after the end of the session {}", MsgTypeName(frame.type),
                                     RouteName(inbound_)));
  }
  QNET_TRY(CheckRoute(inbound_, *version_, frame));
  switch (inbound_) {
    case Route::kToService:
    case Route::kFromService:
      return AcceptData(frame);
    case Route::kClientToDaemon:
    case Route::kDaemonToClient:
      finished_ = IsCommand(frame.type);
      return OkStatus();
    case Route::kDaemonToAgent:
    case Route::kAgentToDaemon:
      return OkStatus();
  }
  return OkStatus();
}

Status SessionState::AcceptData(const Frame& frame) {
  bool eof = frame.payload.empty();
  auto stream = [&](bool& closed, std::string_view what) -> Status {
    if (closed)
      return ProtocolError(fmt::format("{} after the end of {}", MsgTypeName(frame.type), what));
    closed = eof;
    return OkStatus();
  };
  switch (frame.type) {
    case MsgType::kDataStdin:
      QNET_TRY(stream(stdin_eof_, "stdin"));
      finished_ = stdin_eof_;
      return OkStatus();
    case MsgType::kDataStdout:
      return stream(stdout_eof_, "stdout");
    case MsgType::kDataStderr:
      return stream(stderr_eof_, "stderr");
    case MsgType::kDataExitCode: {
      QNET_ASSIGN_OR_RETURN(int32_t code, DecodeExitCode(frame.payload));
      exit_code_ = code;
      finished_ = true;
      return OkStatus();
    }
    default:
      return ProtocolError(fmt::format("{} on a data channel", MsgTypeName(frame.type)));
  }
}

}  // namespace qnet::qrexec
