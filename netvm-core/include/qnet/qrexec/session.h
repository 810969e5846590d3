// One qrexec data channel (a call), streamed both ways at once.
//
// Each call gets its own connected stream (transport.h) and its own HELLO
// exchange (protocol.h); then
//   requester -> service  DATA_STDIN chunks, an empty one at EOF
//   service -> requester  DATA_STDOUT and DATA_STDERR chunks, each ended by
//                         an empty one, then DATA_EXIT_CODE
// Nothing waits for one direction to finish before the other moves: a service
// may answer while its input is still arriving. Back-pressure: a local fd is
// read only while the bytes queued for the socket are below a bound, and the
// socket is read only while the bytes queued for each local fd are below it,
// so memory stays bounded (a few hundred KiB per call) whatever the sizes.
//
// Chunk size: MaxDataChunk of the negotiated version. Every received frame is
// checked by a SessionState (direction, version, order); a violation ends the
// call with kProtocol.
//
// Ownership: the functions take ownership of every fd and close them (a local
// sink is closed as soon as its stream's EOF has been written to it, so the
// reader there sees EOF). Blocking; one call per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"

namespace qnet::qrexec {

// The requester's end: `input` is sent as the service's stdin; its stdout
// and stderr are written to `output` and `errors` (either may be empty: the
// bytes are then dropped). Returns the service's exit code (125/126/127 when
// no service ran). Errors: kProtocol, kUnavailable (the channel closed before
// the exit code), kTimeout, kIo.
Result<int32_t> RunRequester(UniqueFd channel, UniqueFd input, UniqueFd output, UniqueFd errors,
                             std::optional<std::chrono::milliseconds> timeout = std::nullopt);

// The service's end: incoming DATA_STDIN is written to `stdin_sink` (the
// service process's stdin; may be empty to drop it); the service's `stdout`
// and `stderr` are read to EOF and sent; then `wait_exit` gives the exit code
// to send (e.g. waitpid). Errors as RunRequester.
Status RunService(UniqueFd channel, UniqueFd stdin_sink, UniqueFd stdout_source,
                  UniqueFd stderr_source, const std::function<int32_t()>& wait_exit,
                  std::optional<std::chrono::milliseconds> timeout = std::nullopt);

}  // namespace qnet::qrexec
