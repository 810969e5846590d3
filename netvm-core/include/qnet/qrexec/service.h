// qrexec service calls over a Channel: the call layer between qnetd and each
// qube's agent (qnet's own services, "qnet.Configure", "qnet.Status", ...).
//
// One call, client -> server:
//   MSG_EXEC_CMDLINE  exec_params{0, 0, "USER:QUBESRPC SERVICE[+ARG] SOURCE"}
//                     carrying the call's fds (SCM_RIGHTS)
//   MSG_DATA_STDIN    input in chunks of <= kMaxDataChunk bytes
//   MSG_DATA_STDIN    empty: end of input
// server -> client, when the service exists:
//   MSG_DATA_STDOUT   output chunks, then an empty one (end of stdout)
//   MSG_DATA_STDERR   error-output chunks
//   MSG_DATA_EXIT_CODE
// server -> client, when it does not, as a Qubes agent reports it:
//   MSG_DATA_STDOUT   empty, MSG_DATA_STDERR empty,
//   MSG_DATA_EXIT_CODE 127 (kExitNotFound); 125 (kExitProblem) for a
//                     malformed command line
// Call turns exit code 127 with no output at all into Errc::kNotFound, and a
// MSG_SERVICE_REFUSED (a daemon refusing the call) into kPermissionDenied.
// The server always reads the whole call before answering, so a client blocked
// on sending a large input cannot deadlock against an early answer.
// Calls on one channel are sequential; Handshake once per channel first.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"
#include "qnet/qrexec/channel.h"

namespace qnet::qrexec {

// The most input a server accepts, and output a client accepts, per call.
inline constexpr size_t kMaxCallDataBytes = 16 * 1024 * 1024;

// Exchanges HELLO (peer_info) on a fresh channel: sends ours
// (kProtocolVersion), then expects the peer's, and returns the version both
// use, min(ours, theirs). Both ends call it; neither needs to go first.
// Errors: kProtocol if the first message is not HELLO or the peer's version is
// below kMinProtocolVersion ("peer speaks qrexec protocol version 2; the
// oldest qnet speaks is 3"), plus Channel's errors.
Result<uint32_t> NegotiateHandshake(
    Channel& channel, std::optional<std::chrono::milliseconds> timeout = std::nullopt);
// NegotiateHandshake without the version.
Status Handshake(Channel& channel, std::optional<std::chrono::milliseconds> timeout = std::nullopt);

// --- client ---------------------------------------------------------------

struct CallRequest {
  std::string service;          // e.g. "qnet.Configure"
  std::string arg;              // without '+', may be empty
  std::string source = "dom0";  // the calling qube
  std::string user = "root";    // the user the service runs as
  std::string input;            // the service's stdin
  std::vector<int> fds;         // borrowed; duplicated for the call
};

struct CallResult {
  int exit_code = 0;
  std::string stdout_data;
  std::string stderr_data;
};

// Makes one call and waits for its result; timeout bounds the whole call.
// Errors: kInvalidArgument for a bad request (nothing sent); kNotFound
// "qrexec call SERVICE[+ARG]: no such service in the peer (exit code 127)";
// kPermissionDenied "...: refused by the peer" (MSG_SERVICE_REFUSED); kProtocol for
// an unexpected message or more than kMaxCallDataBytes of output; kTimeout;
// kUnavailable if the peer closed. A non-zero exit code is a result, not an
// error. After any error but kInvalidArgument, kNotFound and
// kPermissionDenied the channel's
// stream may be mid-call: close it. Not thread-safe per channel.
Result<CallResult> Call(Channel& channel, const CallRequest& request,
                        std::chrono::milliseconds timeout);

// --- server ---------------------------------------------------------------

// What a handler gets. It owns the fds that came with the call.
struct ServiceRequest {
  std::string service;
  std::string arg;
  std::string source;
  std::string user;
  std::string input;
  std::vector<UniqueFd> fds;
};

struct ServiceReply {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// A handler runs on the thread that called ServeOne; it reports failure
// through exit_code/err (errors are values; it must not throw).
using ServiceHandler = std::function<ServiceReply(ServiceRequest&)>;

// One row of a ServiceTable.
struct ServiceEntry {
  std::string name;
  ServiceHandler handler;
};

// Table-driven dispatch: service name -> handler. Immutable once built;
// const methods are thread-safe.
class ServiceTable {
 public:
  // kInvalidArgument for an invalid service name or a null handler;
  // kAlreadyExists for a name listed twice.
  static Result<ServiceTable> Create(std::vector<ServiceEntry> rows);

  // The handler for a service name, or nullptr.
  const ServiceHandler* Find(std::string_view service) const;
  const std::vector<ServiceEntry>& rows() const { return rows_; }

 private:
  explicit ServiceTable(std::vector<ServiceEntry> rows) : rows_(std::move(rows)) {}
  std::vector<ServiceEntry> rows_;  // sorted by name
};

// Serves one call: reads EXEC_CMDLINE and stdin up to EOF, dispatches to the
// table, writes the reply (or SERVICE_REFUSED). idle_timeout bounds the wait
// for each message; nullopt waits forever (an agent's loop).
// Returns OK when a reply (including exit code 127 for an unknown service) was
// sent. Errors: kUnavailable when the peer closed before a call began (the
// normal end of a serve loop); for a call that was read whole but cannot be
// run, exit code 125 is sent first and then kInvalidArgument (bad command
// line) or kProtocol (bad exec_params) is returned, the channel still usable;
// kProtocol for a message out of sequence or more than kMaxCallDataBytes of
// input (the channel is then out of step: close it); plus Channel's errors.
Status ServeOne(Channel& channel, const ServiceTable& table,
                std::optional<std::chrono::milliseconds> idle_timeout = std::nullopt);

}  // namespace qnet::qrexec
