// Typed results of the control port for what qnet uses: GETINFO key/value
// replies, PROTOCOLINFO, the bootstrap phase, circuit and stream status,
// and the events CIRC, STREAM, STATUS_CLIENT and NOTICE/WARN/ERR.
// Every parser takes a complete Reply (control_reply.h) and returns a
// kProtocol Error for a reply it cannot read. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/tor/control_reply.h"

namespace qnet::tor {

// GETINFO: key -> value (a data line's body for multi-line values). A
// non-2xx reply is an Error carrying tor's text.
Result<std::map<std::string, std::string>> ParseGetInfo(const Reply& reply);

enum class AuthMethod : uint8_t { kNull, kHashedPassword, kCookie, kSafeCookie };
struct ProtocolInfoReply {
  std::set<AuthMethod> methods;  // methods this client knows; others ignored
  std::string cookie_file;       // empty when none
  std::string tor_version;
};
Result<ProtocolInfoReply> ParseProtocolInfo(const Reply& reply);

// "250 AUTHCHALLENGE SERVERHASH=<64 hex> SERVERNONCE=<64 hex>".
struct AuthChallengeReply {
  std::vector<uint8_t> server_hash;
  std::vector<uint8_t> server_nonce;
};
Result<AuthChallengeReply> ParseAuthChallenge(const Reply& reply);

// "NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"" (status/
// bootstrap-phase, and the STATUS_CLIENT event's arguments).
struct BootstrapStatus {
  int progress = 0;  // 0..100
  std::string tag;
  std::string summary;
  std::optional<std::string> warning;  // WARNING= of a stalled bootstrap
  bool operator==(const BootstrapStatus&) const = default;
};
Result<BootstrapStatus> ParseBootstrapPhase(std::string_view text);

enum class CircStatus : uint8_t { kLaunched, kBuilt, kGuardWait, kExtended, kFailed, kClosed };
struct CircuitStatus {
  uint64_t id = 0;
  CircStatus status = CircStatus::kLaunched;
  std::vector<std::string> path;              // "$FINGERPRINT~nickname", first hop first
  std::string purpose;                        // PURPOSE=, e.g. "GENERAL"
  std::optional<std::string> socks_username;  // SOCKS_USERNAME= (isolation)
  std::optional<std::string> reason;
};
// One line of GETINFO circuit-status or a CIRC event's text (after "CIRC ").
Result<CircuitStatus> ParseCircuitStatus(std::string_view text);
// GETINFO circuit-status: the body of the data line, one circuit per line.
Result<std::vector<CircuitStatus>> ParseCircuitStatusList(std::string_view body);

enum class StreamState : uint8_t {
  kNew,
  kNewResolve,
  kRemap,
  kSentConnect,
  kSentResolve,
  kSucceeded,
  kFailed,
  kClosed,
  kDetached,
  kControllerWait,
  kXoffSent,
  kXoffReceived,
  kXonSent,
  kXonReceived,
};
struct StreamStatus {
  uint64_t id = 0;
  StreamState state = StreamState::kNew;
  uint64_t circuit_id = 0;                 // 0: not attached
  std::string target;                      // "203.0.113.10:80"
  std::optional<std::string> source_addr;  // SOURCE_ADDR= (the workstation)
  std::optional<std::string> reason;
};
Result<StreamStatus> ParseStreamStatus(std::string_view text);
Result<std::vector<StreamStatus>> ParseStreamStatusList(std::string_view body);

struct CircEvent {
  CircuitStatus circuit;
};
struct StreamEvent {
  StreamStatus stream;
};
struct StatusClientEvent {
  std::string severity;  // NOTICE, WARN, ERR
  std::string action;    // BOOTSTRAP, CIRCUIT_ESTABLISHED, ...
  std::vector<Token> args;
  std::optional<BootstrapStatus> bootstrap;  // for action BOOTSTRAP
};
struct LogEvent {
  std::string severity;  // NOTICE, WARN, ERR
  std::string message;
};
// An event qnet did not subscribe to or does not model: kept by name.
struct OtherEvent {
  std::string name;
  std::string text;
};
using Event = std::variant<CircEvent, StreamEvent, StatusClientEvent, LogEvent, OtherEvent>;
// A 650 reply as an event.
Result<Event> ParseEvent(const Reply& reply);

}  // namespace qnet::tor
