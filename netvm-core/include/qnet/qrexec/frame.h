// Qubes' qrexec wire format (libqrexec/qrexec.h, protocol version 3): message
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
//   MSG_EXEC_CMDLINE/JUST_EXEC/
//   MSG_SERVICE_CONNECT            kExecParamsSize+1 .. kMaxExecPayload
//   MSG_SERVICE_REFUSED            exactly kServiceIdentSize
//   MSG_TRIGGER_SERVICE            exactly kTriggerServiceParamsSize
//   MSG_CONNECTION_TERMINATED      exactly kExecParamsSize
//   MSG_TRIGGER_SERVICE3           kTriggerServiceParams3Size+1 ..
//                                  kTriggerServiceParams3Size+kMaxServiceDescriptorLen
//   MSG_HELLO                      exactly 4 (struct peer_info)
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

// QREXEC_PROTOCOL_VERSION.
inline constexpr uint32_t kProtocolVersion = 3;
// MAX_DATA_CHUNK_V3: the largest DATA_* payload.
inline constexpr size_t kMaxDataChunk = 65536;
// sizeof(struct msg_header).
inline constexpr size_t kHeaderSize = 8;
// sizeof(struct exec_params) without the flexible cmdline.
inline constexpr size_t kExecParamsSize = 8;
// MAX_QREXEC_CMD_LEN: the largest cmdline, its NUL terminator included.
inline constexpr size_t kMaxCmdlineLen = 65535;
// The largest EXEC_CMDLINE payload (64 KiB + 7).
inline constexpr size_t kMaxExecPayload = kExecParamsSize + kMaxCmdlineLen;
// sizeof(struct service_params): char ident[32].
inline constexpr size_t kServiceIdentSize = 32;
// sizeof(struct trigger_service_params): name[64], target[32], ident[32].
inline constexpr size_t kTriggerServiceParamsSize = 128;
// sizeof(struct trigger_service_params3): target[64], ident[32].
inline constexpr size_t kTriggerServiceParams3Size = 96;
// Target domain field of trigger_service_params3.
inline constexpr size_t kTargetDomainSize = 64;

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
Result<std::string> EncodeExecParams(const ExecParams& params);
// kProtocol: shorter than kExecParamsSize+1, longer than kMaxExecPayload,
// cmdline not NUL-terminated or with an embedded NUL.
Result<ExecParams> DecodeExecParams(std::string_view payload);

// The DATA_EXIT_CODE payload: an int32.
std::string EncodeExitCode(int32_t exit_code);
Result<int32_t> DecodeExitCode(std::string_view payload);

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

// Splits a byte stream into DATA_* payloads of at most kMaxDataChunk bytes
// (views into `data`; none for empty data). The EOF marker is not included.
std::vector<std::string_view> ChunkData(std::string_view data);

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
