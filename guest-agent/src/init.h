// The qube's PID 1 on the netns backend.
#pragma once

#include "qnet/agent/options.h"
#include "qnet/base/fd.h"

namespace qnet::agent {

// Reads the qube's containment from opts.containment_fd (and closes it),
// makes / private and builds two views of the qube's files: the agent's
// (the host's mounts with the qube's own /proc, /sys, /run, /tmp, qnet's
// state hidden, /etc/resolv.conf and /etc/hostname bound to files of the
// qube's own) and the qube's (qnet/runtime/qube_view.h), with the qube's
// user namespace. Then runs the agent, handing it both namespaces at fds
// kQubeUsernsFd and kQubeViewFd, and restarts it whenever it exits.
// Returns only on SIGTERM or a setup failure (exit code).
int RunInit(const Options& opts, const char* self_exe);

// Where the qube keeps its own resolv.conf (bound over /etc/resolv.conf).
inline constexpr const char* kQubeResolvConf = "/run/qnet-qube/resolv.conf";
inline constexpr const char* kQubeHostname = "/run/qnet-qube/hostname";

// The agent inherits the qube's user namespace and view at these fds (the
// init holds them too, so they outlive an agent restart).
inline constexpr int kQubeUsernsFd = 5;
inline constexpr int kQubeViewFd = 6;

struct QubeNamespaces {
  UniqueFd userns;
  UniqueFd view;
  uint32_t id_base = 0;  // the qube's host id range (handed to the agent in kIdBaseEnv)
};

// The agent learns the qube's id base from its environment, which the
// qube's processes cannot read (a host-root process's /proc/PID/environ
// needs ptrace rights over it), unlike its command line.
inline constexpr const char* kIdBaseEnv = "QNET_ID_BASE";

}  // namespace qnet::agent
