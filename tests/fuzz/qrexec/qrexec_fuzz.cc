// Feeds arbitrary bytes to the qrexec stream decoder, the payload decoders,
// the per-link session state machine and the QUBESRPC command-line parser.
// Bad input must yield an Error, never a crash; whatever decodes must
// re-encode to the same bytes, and a poisoned session stays poisoned.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "qnet/qrexec/command_line.h"
#include "qnet/qrexec/frame.h"
#include "qnet/qrexec/protocol.h"

namespace {

using namespace qnet::qrexec;

void Check(bool condition) {
  if (!condition) std::abort();
}

// Every payload decoder; what decodes must encode back to the same bytes.
void FuzzPayloads(const Frame& frame) {
  (void)DecodeHello(frame.payload);
  (void)DecodeExitCode(frame.payload);
  (void)DecodeServiceParams(frame.payload);
  (void)DecodeTriggerServiceParams3(frame.payload);
  if (auto t4 = DecodeTriggerServiceParams4(frame.payload); t4.has_value()) {
    auto again = EncodeTriggerServiceParams4(*t4);
    Check(again.has_value());
  }
  if (auto port = DecodeVchanPort(frame.payload); port.has_value()) {
    Check(EncodeVchanPort(*port) == frame.payload);
  }
  if (auto connect = DecodeServiceConnect(frame.payload); connect.has_value()) {
    auto again = EncodeServiceConnect(*connect);
    Check(again.has_value() && again->size() == kServiceConnectSize);
  }
  if (auto exec = DecodeExecParams(frame.payload); exec.has_value()) {
    (void)ParseRpcCommandLine(exec->cmdline);
  }
}

// Decodes the stream fed in pieces whose sizes come from the first byte, and
// checks that every frame re-encodes to the bytes it came from; the frames
// also drive the state machine of the route the first byte picks.
void FuzzDecoder(std::string_view data) {
  if (data.empty()) return;
  size_t piece = static_cast<uint8_t>(data[0]) + 1;
  SessionState session(static_cast<Route>(static_cast<uint8_t>(data[0]) % 6));
  bool poisoned = false;
  data.remove_prefix(1);
  FrameDecoder decoder;
  std::string consumed;
  for (size_t pos = 0; pos < data.size(); pos += piece) {
    decoder.Feed(data.substr(pos, piece));
    while (true) {
      auto next = decoder.Next();
      if (!next.has_value()) return;
      if (!next->has_value()) break;
      const Frame& frame = **next;
      auto encoded = EncodeFrame(frame.type, frame.payload);
      Check(encoded.has_value());
      Check(data.substr(consumed.size(), encoded->size()) == *encoded);
      consumed += *encoded;
      FuzzPayloads(frame);
      qnet::Status step = session.OnFrame(frame);
      Check(!(poisoned && step.ok()));
      poisoned = poisoned || !step.ok();
      if (session.version()) Check(*session.version() >= kMinProtocolVersion);
    }
  }
  (void)decoder.Finish();
}

// A command line that parses must format to one that parses the same.
void FuzzCommandLine(std::string_view data) {
  auto parsed = ParseRpcCommandLine(data);
  if (!parsed.has_value()) return;
  auto formatted = FormatRpcCommandLine(*parsed);
  Check(formatted.has_value());
  auto reparsed = ParseRpcCommandLine(*formatted);
  Check(reparsed.has_value() && *reparsed == *parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  FuzzDecoder(data);
  FuzzCommandLine(data);
  return 0;
}
