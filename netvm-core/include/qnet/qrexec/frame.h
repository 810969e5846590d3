// Qubes' qrexec wire format (libqrexec/qrexec.h, protocol versions 3 and 4): message
// types, the 8-byte header, the fixed payload structs, and a streaming
// decoder. Everything here is pure (no I/O) and works on values.
//
// Byte order: host order, as Qubes does (both ends run on one machine).
//
// A message is `struct msg_header { uint32 type; uint32 len; }` followed by
// len payload bytes. Payload length rules per type (checked by DecodeHeader,
// FrameDecoder and EncodeFrame alike; see PayloadLimitsFor):
//   MSG_DATA_STDIN/STDOUT/STDERR   0..kMaxDataChunk (empty = EOF)
//   MSG_DATA_EXIT_CODE             exactly 4 (int32)
//   MSG_EXEC_CMDLINE/JUST_EXEC     kExecParamsSize .. kMaxExecPayload (exactly
//                                  kExecParamsSize is the daemon's reply to a
//                                  client carrying the allocated data port)
//   MSG_SERVICE_CONNECT            kExecParamsSize (the daemon's reply) or
//                                  kServiceConnectSize (exec_params + ident[32])
//   MSG_SERVICE_REFUSED            exactly kServiceIdentSize
//   MSG_TRIGGER_SERVICE            exactly kTriggerServiceParamsSize
//   MSG_CONNECTION_TERMINATED      exactly kExecParamsSize
//   MSG_TRIGGER_SERVICE3           kTriggerServiceParams3Size+1 ..
//                                  kTriggerServiceParams3Size+kMaxServiceDescriptorLen
//   MSG_TRIGGER_SERVICE4           kTriggerServiceParams4Size+1 ..
//                                  kTriggerServiceParams4Size+kMaxServiceDescriptorLen
//   MSG_HELLO                      exactly 4 (struct peer_info)
// These are the limits of the type on any link; which messages may travel in
// which direction, in which negotiated version, and with which of the layouts
// above is checked by CheckRoute (protocol.h).
//
// Errors: malformed bytes from a peer give Errc::kProtocol with a message
// naming the field ("msg_header.len: ...", "exec_params.cmdline: ...");
// bad values handed to an encoder give Errc::kInvalidArgument. Nothing here
// asserts on input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/qrexec/command_line.h"

namespace qnet::qrexec {

// The protocol version qnet announces in MSG_HELLO (Qubes R4.3's). Peers use
// min(ours, theirs); see NegotiateVersion in protocol.h.
inline constexpr uint32_t kProtocolVersion = 4;
// The oldest version qnet speaks (Qubes R4.1/R4.2). Version 2 (R4.0) is
// refused: it lacks MSG_TRIGGER_SERVICE3 and uses 4 KiB data chunks.
inline constexpr uint32_t kMinProtocolVersion = 3;
// MAX_DATA_CHUNK_V3: the largest DATA_* payload in versions 3 and 4.
inline constexpr size_t kMaxDataChunk = 65536;
// MAX_DATA_CHUNK_V2: the largest DATA_* payload in version 2.
inline constexpr size_t kMaxDataChunkV2 = 4096;
// sizeof(struct msg_header).
inline constexpr size_t kHeaderSize = 8;
// sizeof(struct exec_params) without the flexible cmdline.
inline constexpr size_t kExecParamsSize = 8;
// MAX_QREXEC_CMD_LEN: the largest EXEC_CMDLINE / JUST_EXEC payload the
// daemon accepts (exec_params and the NUL-terminated cmdline together).
inline constexpr size_t kMaxExecPayload = 65535;
// The largest cmdline, its NUL terminator included.
inline constexpr size_t kMaxCmdlineLen = kMaxExecPayload - kExecParamsSize;
// MSG_SERVICE_CONNECT from the daemon to an agent: exec_params followed by
// struct service_params (char ident[32], NUL-padded).
inline constexpr size_t kServiceConnectSize = 40;
// sizeof(struct service_params): char ident[32].
inline constexpr size_t kServiceIdentSize = 32;
// sizeof(struct trigger_service_params): name[64], target[32], ident[32].
inline constexpr size_t kTriggerServiceParamsSize = 128;
// sizeof(struct trigger_service_params3): target[64], ident[32].
inline constexpr size_t kTriggerServiceParams3Size = 96;
// sizeof(struct trigger_service_params4): source[64], target[64], ident[32].
inline constexpr size_t kTriggerServiceParams4Size = 160;
// Target domain field of trigger_service_params3 (and source and target of 4).
inline constexpr size_t kTargetDomainSize = 64;

// Exit codes a Qubes agent reports in MSG_DATA_EXIT_CODE, with empty
// MSG_DATA_STDOUT and MSG_DATA_STDERR before it, when no service ran.
inline constexpr int32_t kExitProblem = 125;   // the call could not be set up
inline constexpr int32_t kExitRefused = 126;   // refused (policy)
inline constexpr int32_t kExitNotFound = 127;  // no such service

enum class MsgType : uint32_t {
  kDataStdin = 0x190,
  kDataStdout = 0x191,
  kDataStderr = 0x192,
  kDataExitCode = 0x193,
  kExecCmdline = 0x200,
  kJustExec = 0x201,
  kServiceConnect = 0x202,
  kServiceRefused = 0x203,
  kTriggerService = 0x210,
  kConnectionTerminated = 0x211,
  kTriggerService3 = 0x212,
  kTriggerService4 = 0x213,
  kHello = 0x300,
};

// Qubes' name, e.g. "MSG_DATA_STDIN"; "MSG_0x1234" for a value outside the enum.
std::string MsgTypeName(MsgType type);
// The enum value for a wire value, or nullopt if Qubes defines no such type.
std::optional<MsgType> MsgTypeFromWire(uint32_t raw);
// True for DATA_STDIN, DATA_STDOUT, DATA_STDERR.
bool IsDataStream(MsgType type);

struct PayloadLimits {
  size_t min = 0;
  size_t max = 0;
};
// The accepted payload length range of a type (table above).
PayloadLimits PayloadLimitsFor(MsgType type);

struct Header {
  MsgType type = MsgType::kHello;
  uint32_t len = 0;
  bool operator==(const Header&) const = default;
};

// The 8 header bytes.
std::string EncodeHeader(const Header& header);
// Decodes and checks the first kHeaderSize bytes of `bytes` (more are
// ignored). Errors (kProtocol): fewer than 8 bytes, unknown type, len outside
// the type's limits.
Result<Header> DecodeHeader(std::string_view bytes);

// A whole message without file descriptors.
struct Frame {
  MsgType type = MsgType::kHello;
  std::string payload;
  bool operator==(const Frame&) const = default;
};

// Header + payload. kInvalidArgument if the payload length is outside the
// type's limits (we never send what a peer must reject).
Result<std::string> EncodeFrame(MsgType type, std::string_view payload);

// --- payloads -------------------------------------------------------------

// struct peer_info, the HELLO payload.
struct PeerInfo {
  uint32_t version = kProtocolVersion;
  bool operator==(const PeerInfo&) const = default;
};
std::string EncodeHello(const PeerInfo& info);
Result<PeerInfo> DecodeHello(std::string_view payload);

// struct exec_params + cmdline, the EXEC_CMDLINE / JUST_EXEC /
// SERVICE_CONNECT payload. cmdline is held without its NUL terminator.
struct ExecParams {
  uint32_t connect_domain = 0;
  uint32_t connect_port = 0;
  std::string cmdline;
  bool operator==(const ExecParams&) const = default;
};
// kInvalidArgument: cmdline contains a NUL or is longer than kMaxCmdlineLen-1.
// Decoding refuses a payload of exactly kExecParamsSize (that is the daemon's
// reply; use DecodeVchanPort).
Result<std::string> EncodeExecParams(const ExecParams& params);
// kProtocol: shorter than kExecParamsSize+1, longer than kMaxExecPayload,
// cmdline not NUL-terminated or with an embedded NUL.
Result<ExecParams> DecodeExecParams(std::string_view payload);

// The DATA_EXIT_CODE payload: an int32.
std::string EncodeExitCode(int32_t exit_code);
Result<int32_t> DecodeExitCode(std::string_view payload);

// The largest DATA_* payload in a negotiated protocol version: 4096 in
// version 2 and older, 65536 from version 3.
size_t MaxDataChunk(uint32_t version);

// exec_params without a cmdline: the 8-byte payload of the daemon's reply to a
// client's command (same type as the command) and of CONNECTION_TERMINATED,
// naming a data channel.
struct VchanPort {
  uint32_t domain = 0;
  uint32_t port = 0;
  bool operator==(const VchanPort&) const = default;
};
std::string EncodeVchanPort(const VchanPort& port);
// kProtocol unless exactly kExecParamsSize bytes.
Result<VchanPort> DecodeVchanPort(std::string_view payload);

// MSG_SERVICE_CONNECT from the daemon to the agent that asked for a call:
// where to connect, and the request ident the agent chose in its trigger.
struct ServiceConnect {
  VchanPort port;
  std::string ident;  // < kServiceIdentSize bytes
  bool operator==(const ServiceConnect&) const = default;
};
// kInvalidArgument: ident has a NUL or more than 31 bytes.
Result<std::string> EncodeServiceConnect(const ServiceConnect& connect);
// kProtocol unless exactly kServiceConnectSize bytes with a NUL-terminated
// ident.
Result<ServiceConnect> DecodeServiceConnect(std::string_view payload);

// struct service_params (char ident[32], NUL-terminated), the SERVICE_REFUSED
// payload. Encode: kInvalidArgument if ident has a NUL or > 31 bytes.
Result<std::string> EncodeServiceParams(std::string_view ident);
// kProtocol if not exactly 32 bytes or not NUL-terminated.
Result<std::string> DecodeServiceParams(std::string_view payload);

// struct trigger_service_params3 followed by the NUL-terminated service
// descriptor, the TRIGGER_SERVICE3 payload (a qube asking to call a service).
struct TriggerServiceParams3 {
  std::string target_domain;  // < 64 bytes
  std::string request_id;     // < 32 bytes
  std::string service;        // "SERVICE[+ARG]", 1..kMaxServiceDescriptorLen-1
  bool operator==(const TriggerServiceParams3&) const = default;
};
Result<std::string> EncodeTriggerServiceParams3(const TriggerServiceParams3& params);
Result<TriggerServiceParams3> DecodeTriggerServiceParams3(std::string_view payload);

// struct trigger_service_params4 followed by the NUL-terminated service
// descriptor, the TRIGGER_SERVICE4 payload (protocol 4: TRIGGER_SERVICE3
// plus the source the caller asks to be seen as; empty = itself).
struct TriggerServiceParams4 {
  std::string source_domain;  // < 64 bytes, may be empty
  std::string target_domain;  // < 64 bytes
  std::string request_id;     // < 32 bytes
  std::string service;        // "SERVICE[+ARG]", 1..kMaxServiceDescriptorLen-1
  bool operator==(const TriggerServiceParams4&) const = default;
};
Result<std::string> EncodeTriggerServiceParams4(const TriggerServiceParams4& params);
Result<TriggerServiceParams4> DecodeTriggerServiceParams4(std::string_view payload);

// Splits a byte stream into DATA_* payloads of at most kMaxDataChunk bytes
// (views into `data`; none for empty data). The EOF marker is not included.
std::vector<std::string_view> ChunkData(std::string_view data);
// The same with the chunk size of a negotiated version (MaxDataChunk).
std::vector<std::string_view> ChunkData(std::string_view data, uint32_t version);

// --- streaming decoder ----------------------------------------------------

// Reassembles frames from a byte stream fed in arbitrary pieces.
// The header is checked as soon as its 8 bytes are in, so an oversized length
// is refused before any of its payload is buffered. After an error the
// decoder is poisoned: a byte stream cannot resynchronise, so every later
// Next()/Finish() returns the same error. Not thread-safe.
class FrameDecoder {
 public:
  // Appends bytes. Never fails; errors come from Next().
  void Feed(std::string_view bytes);
  // The next complete frame, nullopt if more bytes are needed, or kProtocol.
  Result<std::optional<Frame>> Next();
  // At end of stream, once Next() has returned nullopt: OK if no partial frame
  // is buffered, else kProtocol "truncated MSG_X: payload has N of M bytes"
  // (or "truncated message: header has N of 8 bytes").
  Status Finish() const;
  // Bytes needed to complete the frame in progress (header first, then its
  // payload). Reading at most this many never crosses a frame boundary. 0 when
  // a complete frame is waiting in Next() or the decoder is poisoned.
  size_t BytesWanted() const;
  // True when no partial frame is buffered.
  bool AtFrameBoundary() const;

 private:
  Status ParsePendingHeader();

  std::string buffer_;
  size_t offset_ = 0;  // consumed bytes at the front of buffer_
  std::optional<Header> header_;
  std::optional<Error> error_;
};

}  // namespace qnet::qrexec
