// Runs a qrexec call's service as a program, as Qubes' agent does: the
// program is looked up in service directories, started with the call's
// QREXEC_* environment, and its stdin, stdout and stderr are the call's data
// channel (session.h), streamed both ways at once.
//
// Lookup: "SERVICE+ARG" in every directory first, then "SERVICE", the first
// executable regular file wins (a file for one argument overrides the
// service's general one). The program gets the argument as argv[1] when
// there is one, and in its environment:
//   QREXEC_REMOTE_DOMAIN        the calling qube
//   QREXEC_SERVICE_FULL_NAME    "SERVICE+ARG" ("SERVICE" without an argument)
//   QREXEC_SERVICE_ARGUMENT     ARG, only when there is one
//   QREXEC_REQUESTED_TARGET     the target the caller named
// plus the agent's own environment. No program: the caller gets empty
// stdout and stderr and exit code 127; a program that cannot start: 125.
//
// Not here (the agent's part): switching to the user the policy names, and
// Qubes' socket services.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"

namespace qnet::qrexec {

// Where qnet's agent looks, in this order (qnet's own, then Qubes').
inline constexpr std::string_view kQnetRpcDir = "/etc/qnet/rpc";
inline constexpr std::string_view kQubesRpcDir = "/etc/qubes-rpc";

struct ServiceCall {
  std::string service;           // validated name
  std::string argument;          // without '+'; empty for none
  std::string source;            // the calling qube
  std::string requested_target;  // as the caller named it
};

// The program's path, or nullopt when no directory has one.
std::optional<std::string> FindServiceProgram(const std::vector<std::string>& dirs,
                                              const ServiceCall& call);

// The QREXEC_* variables ("NAME=value") for the call.
std::vector<std::string> ServiceEnvironment(const ServiceCall& call);

// Serves one call on `channel` with the program found in `dirs` (or the 127
// answer). Returns when the exit code is sent. Errors: session.h's; the
// program is killed if the channel fails.
Status ServeProgram(UniqueFd channel, const std::vector<std::string>& dirs, const ServiceCall& call,
                    std::optional<std::chrono::milliseconds> timeout = std::nullopt);

}  // namespace qnet::qrexec
