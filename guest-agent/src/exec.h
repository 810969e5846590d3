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
  uid_t uid = 65534;
  gid_t gid = 65534;
};

// Starts argv with stdio on the given fds and returns at once. A waiter
// process waits for the command and writes its exit code to `result` as a
// qrexec MSG_DATA_EXIT_CODE frame, then closes it.
// Unless req.root, the command runs as the qube's unprivileged user with
// no capabilities (bounding and ambient sets cleared) and no_new_privs.
Status StartExec(const ExecRequest& req, UniqueFd in, UniqueFd out, UniqueFd err,
                 UniqueFd result);

// In a freshly forked child: become the unprivileged user for good.
// Async-signal-safe enough for after fork (no allocation).
int DropPrivileges(uid_t uid, gid_t gid);

}  // namespace qnet::agent
