#include <fcntl.h>
#include <fmt/format.h>

#include <cerrno>

#include "deadline.h"
#include "qnet/qrexec/service.h"

namespace qnet::qrexec {
namespace {

// Builds the EXEC_CMDLINE message; fails before anything is sent.
Result<Message> BuildExecMessage(const CallRequest& request) {
  RpcCommand command{request.user, request.service, request.arg, request.source, false};
  QNET_ASSIGN_OR_RETURN(std::string cmdline, FormatRpcCommandLine(command));
  Message message{MsgType::kExecCmdline, {}, {}};
  ExecParams params{0, 0, std::move(cmdline)};
  QNET_ASSIGN_OR_RETURN(message.payload, EncodeExecParams(params));
  if (request.fds.size() > kMaxFdsPerMessage) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("{} fds, the limit is {}", request.fds.size(), kMaxFdsPerMessage));
  }
  for (int fd : request.fds) {
    // The caller keeps its fds; the message owns copies until they are sent.
    UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!copy) {
      int err = errno;
      return Fail(Errc::kInvalidArgument,
                  ErrnoError(fmt::format("fd {} to pass", fd), err).message(), err);
    }
    message.fds.push_back(std::move(copy));
  }
  return message;
}

Status SendInput(Channel& channel, std::string_view input, const Deadline& deadline) {
  for (std::string_view chunk : ChunkData(input)) {
    QNET_TRY(channel.Send(MsgType::kDataStdin, chunk, deadline.Remaining()));
  }
  // An empty DATA_STDIN is Qubes' end-of-input marker.
  return channel.Send(MsgType::kDataStdin, "", deadline.Remaining());
}

// Appends a data chunk, refusing a peer that would exhaust our memory.
Status AppendOutput(std::string& out, std::string_view chunk, size_t& total) {
  total += chunk.size();
  if (total > kMaxCallDataBytes) {
    return Fail(Errc::kProtocol,
                fmt::format("peer sent more than {} bytes of output", kMaxCallDataBytes));
  }
  out.append(chunk);
  return OkStatus();
}

// own_stdio: the caller passed its own fds (qnet's extension for `qnet exec`),
// so the output went there and an exit 127 is the command's, not a missing
// service's.
Result<CallResult> ReceiveResult(Channel& channel, const Deadline& deadline, bool own_stdio) {
  CallResult result;
  size_t total = 0;
  while (true) {
    QNET_ASSIGN_OR_RETURN(Message message, channel.Receive(deadline.Remaining()));
    switch (message.type) {
      case MsgType::kDataStdout:
        QNET_TRY(AppendOutput(result.stdout_data, message.payload, total));
        break;
      case MsgType::kDataStderr:
        QNET_TRY(AppendOutput(result.stderr_data, message.payload, total));
        break;
      case MsgType::kDataExitCode: {
        QNET_ASSIGN_OR_RETURN(result.exit_code, DecodeExitCode(message.payload));
        // How a Qubes agent reports a missing service: no output, exit 127.
        if (result.exit_code == kExitNotFound && total == 0 && !own_stdio) {
          return Fail(Errc::kNotFound, "no such service in the peer (exit code 127)");
        }
        return result;
      }
      case MsgType::kServiceRefused:
        QNET_TRY(DecodeServiceParams(message.payload));
        return Fail(Errc::kPermissionDenied, "refused by the peer");
      default:
        return Fail(Errc::kProtocol,
                    fmt::format("unexpected {} during a call", MsgTypeName(message.type)));
    }
  }
}

}  // namespace

Result<CallResult> Call(Channel& channel, const CallRequest& request,
                        std::chrono::milliseconds timeout) {
  std::string what = "qrexec call " + ServiceDescriptor(request.service, request.arg);
  Deadline deadline = Deadline::After(timeout);
  Result<Message> exec = BuildExecMessage(request);
  if (!exec) return exec.error().Wrap(what);
  if (Status s = channel.Send(*exec, deadline.Remaining()); !s) return s.error().Wrap(what);
  if (Status s = SendInput(channel, request.input, deadline); !s) return s.error().Wrap(what);
  Result<CallResult> result = ReceiveResult(channel, deadline, !request.fds.empty());
  if (!result) return result.error().Wrap(what);
  return result;
}

}  // namespace qnet::qrexec
