// Test fixture piece: one side of a WireGuard test, a network namespace
// this test owns with a wireguard-go running in it, killed and its UAPI
// socket removed when the side goes away (also on failure).
#pragma once

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "qnet/base/process.h"
#include "qnet/netlink/socket.h"
#include "qnet/runtime/namespaces.h"
#include "qnet/vpn/wg_uapi.h"

namespace qnet::vpn::testing {

using namespace std::chrono_literals;

inline constexpr const char* kWireguardGo = "/usr/bin/wireguard-go";

// One side: a namespace, its rtnetlink socket and a wireguard-go in it.
struct Side {
  std::string ns_name;
  std::string ifname;
  runtime::PinnedNetns ns;
  std::optional<netlink::Socket> rtnl;
  ChildProcess daemon;
  Key private_key;
  Key public_key;

  std::string SocketPath() const { return UapiSocketPath(ifname); }

  ~Side() {
    if (daemon.valid()) {
      (void)daemon.Kill(SIGTERM);
      if (!daemon.WaitFor(2s)) (void)daemon.Kill(SIGKILL);
    }
    // A killed wireguard-go may leave its socket file behind.
    std::error_code ec;
    std::filesystem::remove(SocketPath(), ec);
  }

  Status StartDaemon() {
    QNET_ASSIGN_OR_RETURN(
        daemon, Spawn({.argv = {"ip", "netns", "exec", ns_name, kWireguardGo, "-f", ifname},
                       .fds = {-1, -1, -1}}));
    for (int i = 0; i < 250; ++i) {  // at most 5 s
      if (std::filesystem::exists(SocketPath())) return OkStatus();
      std::this_thread::sleep_for(20ms);
    }
    return Fail(Errc::kTimeout, fmt::format("wireguard-go made no {} within 5 s", SocketPath()));
  }

  bool Ping(std::string_view addr) const {
    return RunCapture(
               {"ip", "netns", "exec", ns_name, "ping", "-c", "1", "-W", "1", std::string(addr)})
        .has_value();
  }
};

}  // namespace qnet::vpn::testing
