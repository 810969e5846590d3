// `qnet exec`: runs a command in a qube through its agent's qnet.Exec call;
// the command's stdio are the caller's fds, its exit code comes back on a
// socket pair of its own (the agent may restart while the command runs).
#include <sys/socket.h>

#include <nlohmann/json.hpp>

#include "daemon.h"
#include "qnet/qrexec/channel.h"
#include "qnet/qrexec/frame.h"

namespace qnet::chain {

Result<int> Daemon::Exec(const std::string& qube, const std::vector<std::string>& argv, bool root,
                         std::vector<int> stdio) {
  auto proc = FindQube(qube);
  if (!proc) return Fail(Errc::kNotFound, fmt::format("qube '{}' is not running", qube));
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return Fail(ErrnoError("socketpair", errno));
  UniqueFd ours(sv[0]), theirs(sv[1]);
  nlohmann::json j = {{"argv", argv}, {"root", root}};
  stdio.push_back(theirs.get());
  QNET_ASSIGN_OR_RETURN(auto r, proc->Call("qnet.Exec", j.dump(), kCallTimeout, stdio));
  theirs.reset();
  if (r.exit_code != 0) return Fail(Errc::kFailedPrecondition, FailureText(r));
  qrexec::Channel result(std::move(ours));
  auto msg = result.Receive();
  if (!msg || msg->type != qrexec::MsgType::kDataExitCode)
    return Fail(Errc::kUnavailable, fmt::format("qube {}: the command's exit code was lost "
                                                "(agent restarted?)",
                                                qube));
  QNET_ASSIGN_OR_RETURN(int32_t code, qrexec::DecodeExitCode(msg->payload));
  return static_cast<int>(code);
}

}  // namespace qnet::chain
