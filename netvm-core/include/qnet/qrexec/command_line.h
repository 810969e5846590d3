// The Qubes RPC command line carried in an EXEC_CMDLINE message:
//
//   USER:[nogui:]QUBESRPC SERVICE[+ARG] SOURCE
//
// e.g. "root:QUBESRPC qnet.Configure+eth0 dom0". This is the form a qrexec
// agent receives from the daemon (Qubes' libqrexec/exec.c,
// parse_qubes_rpc_command with strip_username). qnet executes services only,
// so a command line that is not a QUBESRPC call is refused.
//
// Validation (every function is pure, thread-safe, and returns
// Errc::kInvalidArgument with a message naming the field):
//   service  1..kMaxServiceNameLen bytes of [A-Za-z0-9._-] (Qubes'
//            RPCNAME_ALLOWED_CHARSET minus '+', which separates the argument;
//            NAME_MAX as in exec.c).
//   argument 0..(kMaxServiceDescriptorLen - service - 1) bytes of
//            [A-Za-z0-9+._-] (RPCNAME_ALLOWED_CHARSET); "SERVICE+" and
//            "SERVICE" both parse to an empty argument.
//   source   a qube name: 1..kMaxQubeNameLen bytes, a letter then
//            [A-Za-z0-9_.-] (Qubes' qube-name rule; "dom0" is valid).
//   user     1..kMaxUserNameLen bytes of [A-Za-z0-9_.-], not starting with
//            '-' (a POSIX portable user name, or Qubes' "DEFAULT").
// Exactly one space separates the three words and nothing follows SOURCE.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "qnet/base/result.h"

namespace qnet::qrexec {

// RPC_REQUEST_COMMAND.
inline constexpr std::string_view kRpcRequestCommand = "QUBESRPC";
// NOGUI_CMD_PREFIX.
inline constexpr std::string_view kNoguiPrefix = "nogui:";
// MAX_SERVICE_NAME_LEN: the longest SERVICE+ARG descriptor.
inline constexpr size_t kMaxServiceDescriptorLen = 65000;
// NAME_MAX: the longest service name (it names a file in Qubes).
inline constexpr size_t kMaxServiceNameLen = 255;
// Qubes' longest qube name.
inline constexpr size_t kMaxQubeNameLen = 31;
// useradd's longest user name.
inline constexpr size_t kMaxUserNameLen = 32;

// A parsed QUBESRPC command line. A value type.
struct RpcCommand {
  std::string user;     // e.g. "root" or "DEFAULT"
  std::string service;  // e.g. "qnet.Configure"
  std::string arg;      // without the '+'; empty when there is none
  std::string source;   // the calling qube, e.g. "dom0"
  bool nogui = false;   // the "nogui:" prefix was present

  bool operator==(const RpcCommand&) const = default;
};

// Parses and validates a command line (without the trailing NUL).
// Errors: kInvalidArgument, e.g. "cmdline: no ':' after the user name",
// "cmdline: service name 'a/b' has invalid character '/' at offset 1".
Result<RpcCommand> ParseRpcCommandLine(std::string_view cmdline);

// Validates the fields and formats "USER:[nogui:]QUBESRPC SERVICE[+ARG] SOURCE".
// ParseRpcCommandLine(*FormatRpcCommandLine(c)) == c for every valid c.
Result<std::string> FormatRpcCommandLine(const RpcCommand& command);

// The "SERVICE" or "SERVICE+ARG" descriptor, unvalidated (for messages).
std::string ServiceDescriptor(std::string_view service, std::string_view arg);

Status ValidateServiceName(std::string_view service);
Status ValidateServiceArgument(std::string_view service, std::string_view arg);
Status ValidateQubeName(std::string_view qube);
Status ValidateUserName(std::string_view user);

}  // namespace qnet::qrexec
