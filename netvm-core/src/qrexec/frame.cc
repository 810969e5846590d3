#include "qnet/qrexec/frame.h"

#include <fmt/format.h>

#include <array>
#include <cstring>

namespace qnet::qrexec {
namespace {

// One row per message type: Qubes' name and the payload lengths a peer may
// send (libqrexec/qrexec.h structs; the daemon's sanitize_message_from_agent
// checks the same exact sizes).
struct TypeRow {
  MsgType type;
  const char* name;
  size_t min_len;
  size_t max_len;
};

constexpr TypeRow kTypes[] = {
    {MsgType::kDataStdin, "MSG_DATA_STDIN", 0, kMaxDataChunk},
    {MsgType::kDataStdout, "MSG_DATA_STDOUT", 0, kMaxDataChunk},
    {MsgType::kDataStderr, "MSG_DATA_STDERR", 0, kMaxDataChunk},
    {MsgType::kDataExitCode, "MSG_DATA_EXIT_CODE", 4, 4},
    // exactly kExecParamsSize is the daemon's reply to a client (CheckRoute)
    {MsgType::kExecCmdline, "MSG_EXEC_CMDLINE", kExecParamsSize, kMaxExecPayload},
    {MsgType::kJustExec, "MSG_JUST_EXEC", kExecParamsSize, kMaxExecPayload},
    {MsgType::kServiceConnect, "MSG_SERVICE_CONNECT", kExecParamsSize, kServiceConnectSize},
    {MsgType::kServiceRefused, "MSG_SERVICE_REFUSED", kServiceIdentSize, kServiceIdentSize},
    {MsgType::kTriggerService, "MSG_TRIGGER_SERVICE", kTriggerServiceParamsSize,
     kTriggerServiceParamsSize},
    {MsgType::kConnectionTerminated, "MSG_CONNECTION_TERMINATED", kExecParamsSize, kExecParamsSize},
    {MsgType::kTriggerService3, "MSG_TRIGGER_SERVICE3", kTriggerServiceParams3Size + 1,
     kTriggerServiceParams3Size + kMaxServiceDescriptorLen},
    {MsgType::kTriggerService4, "MSG_TRIGGER_SERVICE4", kTriggerServiceParams4Size + 1,
     kTriggerServiceParams4Size + kMaxServiceDescriptorLen},
    {MsgType::kHello, "MSG_HELLO", 4, 4},
};

const TypeRow* FindRow(uint32_t raw) {
  for (const TypeRow& row : kTypes) {
    if (static_cast<uint32_t>(row.type) == raw) return &row;
  }
  return nullptr;
}

// Host byte order, as Qubes copies its structs verbatim.
void PutU32(std::string& out, uint32_t value) {
  char bytes[sizeof value];
  std::memcpy(bytes, &value, sizeof value);
  out.append(bytes, sizeof value);
}

uint32_t GetU32(std::string_view in, size_t offset) {
  uint32_t value;
  std::memcpy(&value, in.data() + offset, sizeof value);
  return value;
}

Error ProtocolError(std::string message) { return Error(Errc::kProtocol, std::move(message)); }

// A fixed-size, NUL-terminated char array field.
void PutCharArray(std::string& out, std::string_view value, size_t size) {
  out.append(value);
  out.append(size - value.size(), '\0');
}

Result<std::string> GetCharArray(std::string_view field, std::string_view bytes) {
  size_t nul = bytes.find('\0');
  if (nul == std::string_view::npos) {
    return ProtocolError(
        fmt::format("{}: not NUL-terminated within {} bytes", field, bytes.size()));
  }
  return std::string(bytes.substr(0, nul));
}

Status CheckCharArray(std::string_view field, std::string_view value, size_t size) {
  if (value.find('\0') != std::string_view::npos) {
    return Fail(Errc::kInvalidArgument, fmt::format("{}: contains a NUL byte", field));
  }
  if (value.size() >= size) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("{}: {} bytes, at most {} fit", field, value.size(), size - 1));
  }
  return OkStatus();
}

Status CheckLength(std::string_view what, MsgType type, size_t len) {
  PayloadLimits limits = PayloadLimitsFor(type);
  if (len >= limits.min && len <= limits.max) return OkStatus();
  if (limits.min == limits.max) {
    return ProtocolError(
        fmt::format("{}: {} bytes for {}, expected {}", what, len, MsgTypeName(type), limits.min));
  }
  if (len > limits.max) {
    return ProtocolError(fmt::format("{}: {} bytes exceeds the maximum of {} for {}", what, len,
                                     limits.max, MsgTypeName(type)));
  }
  return ProtocolError(fmt::format("{}: {} bytes is below the minimum of {} for {}", what, len,
                                   limits.min, MsgTypeName(type)));
}

// The NUL-terminated service descriptor that ends a trigger payload.
Result<std::string> GetServiceName(std::string_view field, std::string_view name) {
  if (name.empty() || name.back() != '\0') {
    return ProtocolError(fmt::format("{}: not NUL-terminated", field));
  }
  name.remove_suffix(1);
  if (name.find('\0') != std::string_view::npos) {
    return ProtocolError(fmt::format("{}: embedded NUL", field));
  }
  if (name.empty()) return ProtocolError(fmt::format("{}: empty", field));
  return std::string(name);
}

Status CheckServiceName(std::string_view field, std::string_view name) {
  QNET_TRY(CheckCharArray(field, name, kMaxServiceDescriptorLen));
  if (name.empty()) return Fail(Errc::kInvalidArgument, fmt::format("{}: empty", field));
  return OkStatus();
}

}  // namespace

std::string MsgTypeName(MsgType type) {
  if (const TypeRow* row = FindRow(static_cast<uint32_t>(type))) return row->name;
  return fmt::format("MSG_{:#x}", static_cast<uint32_t>(type));
}

std::optional<MsgType> MsgTypeFromWire(uint32_t raw) {
  if (const TypeRow* row = FindRow(raw)) return row->type;
  return std::nullopt;
}

bool IsDataStream(MsgType type) {
  return type == MsgType::kDataStdin || type == MsgType::kDataStdout ||
         type == MsgType::kDataStderr;
}

PayloadLimits PayloadLimitsFor(MsgType type) {
  if (const TypeRow* row = FindRow(static_cast<uint32_t>(type))) {
    return {row->min_len, row->max_len};
  }
  return {1, 0};  // an empty range: nothing is valid for an unknown type
}

std::string EncodeHeader(const Header& header) {
  std::string out;
  out.reserve(kHeaderSize);
  PutU32(out, static_cast<uint32_t>(header.type));
  PutU32(out, header.len);
  return out;
}

Result<Header> DecodeHeader(std::string_view bytes) {
  if (bytes.size() < kHeaderSize) {
    return ProtocolError(
        fmt::format("msg_header: {} bytes, a header has {}", bytes.size(), kHeaderSize));
  }
  uint32_t raw_type = GetU32(bytes, 0);
  std::optional<MsgType> type = MsgTypeFromWire(raw_type);
  if (!type)
    return ProtocolError(fmt::format("msg_header.type: unknown message type {:#x}", raw_type));
  Header header{*type, GetU32(bytes, 4)};
  QNET_TRY(CheckLength("msg_header.len", header.type, header.len));
  return header;
}

Result<std::string> EncodeFrame(MsgType type, std::string_view payload) {
  if (Status s = CheckLength("payload", type, payload.size()); !s) {
    return Error(Errc::kInvalidArgument, s.error().message());
  }
  std::string out = EncodeHeader({type, static_cast<uint32_t>(payload.size())});
  out.append(payload);
  return out;
}

std::string EncodeHello(const PeerInfo& info) {
  std::string out;
  PutU32(out, info.version);
  return out;
}

Result<PeerInfo> DecodeHello(std::string_view payload) {
  QNET_TRY(CheckLength("peer_info", MsgType::kHello, payload.size()));
  return PeerInfo{GetU32(payload, 0)};
}

Result<std::string> EncodeExecParams(const ExecParams& params) {
  QNET_TRY(CheckCharArray("exec_params.cmdline", params.cmdline, kMaxCmdlineLen));
  std::string out;
  out.reserve(kExecParamsSize + params.cmdline.size() + 1);
  PutU32(out, params.connect_domain);
  PutU32(out, params.connect_port);
  out.append(params.cmdline);
  out.push_back('\0');
  return out;
}

Result<ExecParams> DecodeExecParams(std::string_view payload) {
  QNET_TRY(CheckLength("exec_params", MsgType::kExecCmdline, payload.size()));
  if (payload.size() == kExecParamsSize) {
    return ProtocolError("exec_params.cmdline: missing (8 bytes is a daemon's port reply)");
  }
  std::string_view cmdline = payload.substr(kExecParamsSize);
  if (cmdline.back() != '\0') return ProtocolError("exec_params.cmdline: not NUL-terminated");
  cmdline.remove_suffix(1);
  if (size_t nul = cmdline.find('\0'); nul != std::string_view::npos) {
    return ProtocolError(fmt::format("exec_params.cmdline: embedded NUL at offset {}", nul));
  }
  return ExecParams{GetU32(payload, 0), GetU32(payload, 4), std::string(cmdline)};
}

std::string EncodeExitCode(int32_t exit_code) {
  std::string out;
  PutU32(out, static_cast<uint32_t>(exit_code));
  return out;
}

Result<int32_t> DecodeExitCode(std::string_view payload) {
  QNET_TRY(CheckLength("exit_code", MsgType::kDataExitCode, payload.size()));
  return static_cast<int32_t>(GetU32(payload, 0));
}

Result<std::string> EncodeServiceParams(std::string_view ident) {
  QNET_TRY(CheckCharArray("service_params.ident", ident, kServiceIdentSize));
  std::string out;
  PutCharArray(out, ident, kServiceIdentSize);
  return out;
}

Result<std::string> DecodeServiceParams(std::string_view payload) {
  QNET_TRY(CheckLength("service_params", MsgType::kServiceRefused, payload.size()));
  return GetCharArray("service_params.ident", payload);
}

Result<std::string> EncodeTriggerServiceParams3(const TriggerServiceParams3& params) {
  QNET_TRY(CheckCharArray("trigger_service_params3.target_domain", params.target_domain,
                          kTargetDomainSize));
  QNET_TRY(
      CheckCharArray("trigger_service_params3.request_id", params.request_id, kServiceIdentSize));
  QNET_TRY(CheckServiceName("trigger_service_params3.service_name", params.service));
  std::string out;
  PutCharArray(out, params.target_domain, kTargetDomainSize);
  PutCharArray(out, params.request_id, kServiceIdentSize);
  out.append(params.service);
  out.push_back('\0');
  return out;
}

Result<TriggerServiceParams3> DecodeTriggerServiceParams3(std::string_view payload) {
  QNET_TRY(CheckLength("trigger_service_params3", MsgType::kTriggerService3, payload.size()));
  TriggerServiceParams3 params;
  QNET_ASSIGN_OR_RETURN(params.target_domain, GetCharArray("trigger_service_params3.target_domain",
                                                           payload.substr(0, kTargetDomainSize)));
  QNET_ASSIGN_OR_RETURN(params.request_id,
                        GetCharArray("trigger_service_params3.request_id",
                                     payload.substr(kTargetDomainSize, kServiceIdentSize)));
  QNET_ASSIGN_OR_RETURN(params.service, GetServiceName("trigger_service_params3.service_name",
                                                       payload.substr(kTriggerServiceParams3Size)));
  return params;
}

Result<std::string> EncodeTriggerServiceParams4(const TriggerServiceParams4& params) {
  QNET_TRY(CheckCharArray("trigger_service_params4.source_domain", params.source_domain,
                          kTargetDomainSize));
  QNET_TRY(CheckCharArray("trigger_service_params4.target_domain", params.target_domain,
                          kTargetDomainSize));
  QNET_TRY(
      CheckCharArray("trigger_service_params4.request_id", params.request_id, kServiceIdentSize));
  QNET_TRY(CheckServiceName("trigger_service_params4.service_name", params.service));
  std::string out;
  PutCharArray(out, params.source_domain, kTargetDomainSize);
  PutCharArray(out, params.target_domain, kTargetDomainSize);
  PutCharArray(out, params.request_id, kServiceIdentSize);
  out.append(params.service);
  out.push_back('\0');
  return out;
}

Result<TriggerServiceParams4> DecodeTriggerServiceParams4(std::string_view payload) {
  QNET_TRY(CheckLength("trigger_service_params4", MsgType::kTriggerService4, payload.size()));
  TriggerServiceParams4 params;
  QNET_ASSIGN_OR_RETURN(params.source_domain, GetCharArray("trigger_service_params4.source_domain",
                                                           payload.substr(0, kTargetDomainSize)));
  QNET_ASSIGN_OR_RETURN(params.target_domain,
                        GetCharArray("trigger_service_params4.target_domain",
                                     payload.substr(kTargetDomainSize, kTargetDomainSize)));
  QNET_ASSIGN_OR_RETURN(params.request_id,
                        GetCharArray("trigger_service_params4.request_id",
                                     payload.substr(2 * kTargetDomainSize, kServiceIdentSize)));
  QNET_ASSIGN_OR_RETURN(params.service, GetServiceName("trigger_service_params4.service_name",
                                                       payload.substr(kTriggerServiceParams4Size)));
  return params;
}

size_t MaxDataChunk(uint32_t version) {
  return version >= kMinProtocolVersion ? kMaxDataChunk : kMaxDataChunkV2;
}

std::string EncodeVchanPort(const VchanPort& port) {
  std::string out;
  PutU32(out, port.domain);
  PutU32(out, port.port);
  return out;
}

Result<VchanPort> DecodeVchanPort(std::string_view payload) {
  if (payload.size() != kExecParamsSize) {
    return ProtocolError(
        fmt::format("exec_params: {} bytes, a port reply has {}", payload.size(), kExecParamsSize));
  }
  return VchanPort{GetU32(payload, 0), GetU32(payload, 4)};
}

Result<std::string> EncodeServiceConnect(const ServiceConnect& connect) {
  QNET_TRY(CheckCharArray("service_params.ident", connect.ident, kServiceIdentSize));
  std::string out = EncodeVchanPort(connect.port);
  PutCharArray(out, connect.ident, kServiceIdentSize);
  return out;
}

Result<ServiceConnect> DecodeServiceConnect(std::string_view payload) {
  if (payload.size() != kServiceConnectSize) {
    return ProtocolError(
        fmt::format("service_connect: {} bytes for MSG_SERVICE_CONNECT, expected {}",
                    payload.size(), kServiceConnectSize));
  }
  ServiceConnect connect;
  connect.port = VchanPort{GetU32(payload, 0), GetU32(payload, 4)};
  QNET_ASSIGN_OR_RETURN(connect.ident,
                        GetCharArray("service_params.ident", payload.substr(kExecParamsSize)));
  return connect;
}

std::vector<std::string_view> ChunkData(std::string_view data) {
  return ChunkData(data, kProtocolVersion);
}

std::vector<std::string_view> ChunkData(std::string_view data, uint32_t version) {
  size_t chunk = MaxDataChunk(version);
  std::vector<std::string_view> chunks;
  chunks.reserve((data.size() + chunk - 1) / chunk);
  for (size_t pos = 0; pos < data.size(); pos += chunk) chunks.push_back(data.substr(pos, chunk));
  return chunks;
}

}  // namespace qnet::qrexec
