// The admin services qnetd serves to the CLI over its socket, as qrexec
// calls (service "admin.Up", ...): one row per service.
#pragma once

#include <atomic>

#include "daemon.h"
#include "qnet/qrexec/service.h"

namespace qnet::chain {

// exit_requested is set by admin.Down of everything: qnetd then exits.
qrexec::ServiceTable AdminServices(Daemon& daemon, std::atomic<bool>& exit_requested);

// admin.Dispvm {netvm?, label, template, firewall[], argv[]} with 4 fds
// (stdin, stdout, stderr, lifeline): `qnet dispvm` (dispvm_cli.cc).
qrexec::ServiceHandler DispvmService(Daemon& daemon);

// The exit code the CLI returns for an admin error (as `qvm-*` tools: 1).
inline constexpr int kAdminErrorExit = 1;

}  // namespace qnet::chain
