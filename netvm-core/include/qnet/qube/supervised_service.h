// A supervised service: a daemon a capability needs running in its qube
// (wireguard-go for the vpn role, tor for the tor role), described as a
// value, never as shell. A capability returns the services it wants
// (Capability::Daemons); the agent hands the whole list to the qube's init,
// which runs each one as its own child (so it survives an agent crash), on
// the qube's user side (its view and user namespace) as the given qube ids,
// restarts it with back-off when it exits, and stops it with the qube or
// when it leaves the list. The init reports what runs as ServiceState
// values. Plain values with a JSON form; pure, thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"

namespace qnet::qube {

struct SupervisedService {
  // [a-z0-9-], 1..32 characters: names its state and network namespace.
  std::string name;
  // argv[0] is an absolute path, looked up in the qube's view.
  std::vector<std::string> argv;
  // The whole environment ("KEY=VALUE"); PATH and LANG are added when absent.
  std::vector<std::string> env;
  // Qube ids (0..65535) the daemon runs as. uid 0 keeps its capabilities in
  // the qube's user namespace (none over the qube's own namespaces, which
  // the host's user namespace owns); any other uid has none.
  uint32_t uid = 0;
  uint32_t gid = 0;
  // A network namespace of its own, owned by the qube's user namespace, so
  // that root in it may create links there (a TUN device) and nowhere else.
  // It is created before the first start, kept across restarts (links and
  // addresses the agent put there stay), and removed when the service
  // leaves the list. The agent reaches it at ServiceNetnsPath(name).
  bool own_netns = false;

  bool operator==(const SupervisedService&) const = default;
};

// Checks every field; errors name the service and the field.
Status ValidateService(const SupervisedService& s);

std::string ServicesToJson(const std::vector<SupervisedService>& services);
// Every entry validated; two entries with one name are an error.
Result<std::vector<SupervisedService>> ServicesFromJson(std::string_view text);

// What the init reports about one service.
struct ServiceState {
  std::string name;
  pid_t pid = 0;       // as seen from the qube's pid namespace; 0: not running
  int restarts = 0;    // starts after the first
  int last_exit = -1;  // exit code or 128+signal of the last run; -1: none yet

  bool operator==(const ServiceState&) const = default;
};

std::string StatesToJson(const std::vector<ServiceState>& states);
Result<std::vector<ServiceState>> StatesFromJson(std::string_view text);

// Where the agent and the init meet (both in the agent's view, never in the
// qube's): the wanted list (written by the agent, atomically, then SIGUSR1
// to the init), the init's state report, and the services' network
// namespaces (bind mounts).
inline constexpr const char* kServicesDir = "/run/qnet-services";
inline constexpr const char* kServicesWanted = "/run/qnet-services/wanted.json";
inline constexpr const char* kServicesState = "/run/qnet-services/state.json";
std::string ServiceNetnsPath(std::string_view name, std::string_view dir = kServicesDir);

}  // namespace qnet::qube
