#include <fmt/format.h>

#include <algorithm>

#include "qnet/qrexec/service.h"

namespace qnet::qrexec {
namespace {

using Timeout = std::optional<std::chrono::milliseconds>;

// Reads DATA_STDIN up to the empty chunk that ends it.
Result<std::string> ReadInput(Channel& channel, Timeout idle_timeout) {
  std::string input;
  while (true) {
    QNET_ASSIGN_OR_RETURN(Message message, channel.Receive(idle_timeout));
    if (message.type != MsgType::kDataStdin) {
      return Fail(Errc::kProtocol,
                  fmt::format("expected MSG_DATA_STDIN, got {}", MsgTypeName(message.type)));
    }
    if (message.payload.empty()) return input;
    if (input.size() + message.payload.size() > kMaxCallDataBytes) {
      return Fail(Errc::kProtocol,
                  fmt::format("peer sent more than {} bytes of input", kMaxCallDataBytes));
    }
    input.append(message.payload);
  }
}

// What a Qubes agent sends when no service ran: both streams' EOF, then the
// exit code (125 problem, 127 no such service).
Status SendNoService(Channel& channel, int32_t exit_code, Timeout timeout) {
  QNET_TRY(channel.Send(MsgType::kDataStdout, "", timeout));
  QNET_TRY(channel.Send(MsgType::kDataStderr, "", timeout));
  return channel.Send(MsgType::kDataExitCode, EncodeExitCode(exit_code), timeout);
}

Status SendStream(Channel& channel, MsgType type, std::string_view data, Timeout timeout) {
  for (std::string_view chunk : ChunkData(data)) QNET_TRY(channel.Send(type, chunk, timeout));
  return OkStatus();
}

Status SendReply(Channel& channel, const ServiceReply& reply, Timeout timeout) {
  QNET_TRY(SendStream(channel, MsgType::kDataStdout, reply.out, timeout));
  // Empty DATA_STDOUT: end of stdout, as a Qubes agent reports it.
  QNET_TRY(channel.Send(MsgType::kDataStdout, "", timeout));
  QNET_TRY(SendStream(channel, MsgType::kDataStderr, reply.err, timeout));
  QNET_TRY(channel.Send(MsgType::kDataStderr, "", timeout));
  return channel.Send(MsgType::kDataExitCode, EncodeExitCode(reply.exit_code), timeout);
}

Result<RpcCommand> ParseCall(const Message& exec) {
  QNET_ASSIGN_OR_RETURN(ExecParams params, DecodeExecParams(exec.payload));
  return ParseRpcCommandLine(params.cmdline);
}

}  // namespace

Result<ServiceTable> ServiceTable::Create(std::vector<ServiceEntry> rows) {
  for (const ServiceEntry& row : rows) {
    if (Status s = ValidateServiceName(row.name); !s) return s.error().Wrap("service table");
    if (!row.handler) {
      return Fail(Errc::kInvalidArgument, fmt::format("service table: {}: no handler", row.name));
    }
  }
  std::sort(rows.begin(), rows.end(),
            [](const ServiceEntry& a, const ServiceEntry& b) { return a.name < b.name; });
  auto dup = std::adjacent_find(rows.begin(), rows.end(),
                                [](const auto& a, const auto& b) { return a.name == b.name; });
  if (dup != rows.end()) {
    return Fail(Errc::kAlreadyExists, fmt::format("service table: {} listed twice", dup->name));
  }
  return ServiceTable(std::move(rows));
}

const ServiceHandler* ServiceTable::Find(std::string_view service) const {
  auto it = std::lower_bound(
      rows_.begin(), rows_.end(), service,
      [](const ServiceEntry& row, std::string_view name) { return row.name < name; });
  if (it == rows_.end() || it->name != service) return nullptr;
  return &it->handler;
}

Status ServeOne(Channel& channel, const ServiceTable& table, Timeout idle_timeout) {
  Result<Message> exec = channel.Receive(idle_timeout);
  if (!exec) return exec.error().Wrap("qrexec serve");
  if (exec->type != MsgType::kExecCmdline) {
    return Fail(Errc::kProtocol, fmt::format("qrexec serve: expected MSG_EXEC_CMDLINE, got {}",
                                             MsgTypeName(exec->type)));
  }
  // The whole call is read before any answer: a client still sending a large
  // input must not find the reply (and the next call) interleaved with it.
  Result<std::string> input = ReadInput(channel, idle_timeout);
  if (!input) return input.error().Wrap("qrexec serve");

  Result<RpcCommand> command = ParseCall(*exec);
  if (!command) {
    QNET_TRY(SendNoService(channel, kExitProblem, idle_timeout));
    return command.error().Wrap("qrexec serve: refused");
  }
  std::string descriptor = ServiceDescriptor(command->service, command->arg);
  const ServiceHandler* handler = table.Find(command->service);
  if (handler == nullptr) return SendNoService(channel, kExitNotFound, idle_timeout);

  ServiceRequest request{command->service, command->arg,      command->source,
                         command->user,    std::move(*input), std::move(exec->fds)};
  ServiceReply reply = (*handler)(request);
  if (Status s = SendReply(channel, reply, idle_timeout); !s) {
    return s.error().Wrap(fmt::format("qrexec serve {}: reply", descriptor));
  }
  return OkStatus();
}

}  // namespace qnet::qrexec
