// The backend-independent half of backend.h: the call wrapper every
// RunningQube shares, and the table of backends qnetd's main chooses from.
#include "qnet/chain/backend.h"

#include <array>

#include "netns_backend.h"

namespace qnet::chain {
namespace {

struct BackendRow {
  std::string_view name;
  std::unique_ptr<QubeBackend> (*make)(const Instance&);
};

// The Qubes backend joins as a row when it is written.
constexpr std::array kBackends = {
    BackendRow{"netns", &NewNetnsBackend},
};

}  // namespace

Result<qrexec::CallResult> RunningQube::Call(const std::string& service, const std::string& input,
                                             std::chrono::milliseconds timeout,
                                             const std::vector<int>& fds, const std::string& arg) {
  qrexec::CallRequest req{.service = service, .arg = arg, .input = input, .fds = fds};
  auto r = DoCall(req, timeout);
  if (!r) return Fail(r.error().Wrap(fmt::format("qube {}: {}", name(), service)));
  return r;
}

Status RunningQube::WaitForAgent(std::chrono::milliseconds timeout) {
  auto r = Call("qnet.Status", "", timeout);
  if (!r) return Fail(r.error());
  if (r->exit_code != 0)
    return Fail(Errc::kUnavailable,
                fmt::format("qube {}: agent status: {}", name(), FailureText(*r)));
  return OkStatus();
}

Result<std::unique_ptr<QubeBackend>> MakeBackend(std::string_view name, const Instance& inst) {
  for (const BackendRow& row : kBackends)
    if (row.name == name) return row.make(inst);
  std::vector<std::string_view> known;
  for (const BackendRow& row : kBackends) known.push_back(row.name);
  return Fail(Errc::kInvalidArgument,
              fmt::format("backend '{}': unknown (known: {})", name, fmt::join(known, ", ")));
}

std::string FailureText(const qrexec::CallResult& r) {
  std::string text = r.stderr_data;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace qnet::chain
