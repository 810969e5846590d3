// The qube's PID 1 on the netns backend.
#pragma once

#include "qnet/agent/options.h"

namespace qnet::agent {

// Makes / private, mounts the qube's own /proc, /sys, /run, /tmp, hides
// qnet's state directory, binds /etc/resolv.conf and /etc/hostname to files
// of the qube's own, then runs the agent and restarts it whenever it exits.
// Returns only on SIGTERM or a setup failure (exit code).
int RunInit(const Options& opts, const char* self_exe);

// Where the qube keeps its own resolv.conf (bound over /etc/resolv.conf).
inline constexpr const char* kQubeResolvConf = "/run/qnet-qube/resolv.conf";
inline constexpr const char* kQubeHostname = "/run/qnet-qube/hostname";

}  // namespace qnet::agent
