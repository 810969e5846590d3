// Runs a user's command inside the qube (`qnet exec`, qrexec services).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"

namespace qnet::agent {

struct ExecRequest {
  std::vector<std::string> argv;
  bool root = false;  // `qnet exec --root`: the explicit opt-in for debugging
  uid_t uid = 1000;   // ids of the qube's user namespace
  gid_t gid = 1000;
};

// Starts argv with stdio on the given fds and returns at once. A waiter
// process waits for the command and writes its exit code to `result` as a
// qrexec MSG_DATA_EXIT_CODE frame, then closes it.
// The command runs on the qube's user side: in its view and its user
// namespace (the fds the init handed over), as the qube's user with no
// capabilities (bounding and ambient sets cleared), or with req.root as the
// qube's root (capabilities in the qube's user namespace only); always
// no_new_privs. It cannot act on the qube's network namespace.
Status StartExec(const ExecRequest& req, UniqueFd in, UniqueFd out, UniqueFd err, UniqueFd result);

}  // namespace qnet::agent
