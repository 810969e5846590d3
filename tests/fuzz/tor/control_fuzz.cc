// Any bytes as a control-port stream: the parser yields replies or an
// Error, never crashes, and gives the same result for the whole stream and
// for the same stream split in two (the first byte picks the split). Every
// reply also goes through the typed parsers qnet applies to tor's replies.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "qnet/tor/control_reply.h"
#include "qnet/tor/control_types.h"

namespace {

struct Outcome {
  std::vector<qnet::tor::Reply> replies;
  bool ok = true;
};

Outcome Run(std::string_view a, std::string_view b) {
  qnet::tor::ReplyLimits limits;
  limits.max_line = 512;
  limits.max_reply_bytes = 2048;
  limits.max_lines = 32;
  qnet::tor::ReplyParser parser(limits);
  Outcome out;
  out.ok = parser.Feed(a).ok() && parser.Feed(b).ok();
  while (auto r = parser.Next()) out.replies.push_back(std::move(*r));
  if (out.ok) (void)parser.Finish();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t cut = text.empty() ? 0 : data[0] % (text.size() + 1);
  Outcome whole = Run(text, {});
  Outcome split = Run(text.substr(0, cut), text.substr(cut));
  if (whole.ok != split.ok || whole.replies != split.replies) std::abort();
  for (const qnet::tor::Reply& reply : whole.replies) {
    if (reply.IsEvent()) {
      (void)qnet::tor::ParseEvent(reply);
      continue;
    }
    (void)qnet::tor::ParseProtocolInfo(reply);
    (void)qnet::tor::ParseAuthChallenge(reply);
    if (auto info = qnet::tor::ParseGetInfo(reply)) {
      for (const auto& [key, value] : *info) {
        (void)qnet::tor::ParseBootstrapPhase(value);
        (void)qnet::tor::ParseCircuitStatusList(value);
        (void)qnet::tor::ParseStreamStatusList(value);
      }
    }
  }
  return 0;
}
