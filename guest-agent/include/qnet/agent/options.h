// How qnet-agent is started: its command line, parsed into a value.
//
// `qnet-agent init ...` is a qube's PID 1 (netns backend); it prepares the
// qube's mount namespace and runs `qnet-agent agent ...` with the same
// options, restarting it when it exits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qnet/base/result.h"

namespace qnet::agent {

struct Options {
  std::string mode;  // "init" or "agent"
  std::string instance = "qnet";
  std::string qube;     // the qube's name (also its hostname)
  int control_fd = -1;  // qnetd's end of the control socket pair
  int listen_fd = -1;   // listening socket qnetd reconnects to after a restart
  bool ipv6 = false;    // chain ipv6 = "routed"
  bool tun = false;     // /dev/net/tun in the qube's view (vpn qubes: --tun on)
  // Test hooks: flags that only qnet-agent-test (QNET_TEST_HOOKS) accepts;
  // the shipped agent refuses them as unknown.
  int hold_lockdown_seconds = 0;  // wait before creating the table
  int refresh_floor_seconds = 0;  // lower hostname refresh floor (0: the firewall's)
  uid_t user_uid = 1000;  // the qube's unprivileged user (an id of the qube's user namespace)
  gid_t user_gid = 1000;
  // init: the fd of the qube's containment (qnet/runtime/containment.h:
  // its host id range and the host directories its view is built from),
  // read and closed by the init. Never on a command line: the qube's
  // processes can read every command line in its pid namespace.
  int containment_fd = -1;
  // agent: the qube's host id range, from the init through the agent's
  // environment (QNET_ID_BASE), never its command line.
  uint32_t id_base = 0;

  std::vector<std::string> ToArgv(const std::string& program, const std::string& mode) const;
};

// Parses argv (argv[1] is the mode). Errors name the flag.
Result<Options> ParseOptions(int argc, char** argv);

}  // namespace qnet::agent
