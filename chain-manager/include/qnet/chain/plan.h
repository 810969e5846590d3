// From a chain file to what qnetd builds: every qube's addresses and agent
// configuration, and every link. Pure: no I/O, unit-tested without root.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "qnet/config/chain_spec.h"
#include "qnet/firewall/agent_section.h"
#include "qnet/qube/agent_config.h"

namespace qnet::chain {

struct QubePlan {
  config::QubeSpec spec;
  // A disposable (spec.dispvm, or added by `qnet dispvm`): its addresses
  // are in Qubes' disposable range from dispid, its storage goes at stop.
  bool disposable = false;
  uint32_t dispid = 0;
  // Added by `qnet dispvm` for one command; not in the chain file.
  bool transient = false;
  // `qnet template run`: its template tree is its writable /.
  bool template_writable = false;
  IpAddr addr4;
  std::optional<IpAddr> addr6;
  qube::AgentConfig agent;  // what qnet.Configure sends
  // A netvm's clients' firewall lists (a client absent: the default),
  // enforced by this qube; agent.sections carries them (SyncSections).
  firewall::ClientLists firewall;

  // Writes the typed role data above into agent.sections.
  void SyncSections();
};

struct LinkPlan {
  std::string netvm;   // creates the link in its namespace (side vif<N>.0)
  std::string client;  // gets the peer as eth0
  std::string vif;
  uint32_t client_id = 0;
};

struct Plan {
  std::string chain_name;
  bool ipv6 = false;
  bool lab = false;
  std::vector<QubePlan> qubes;  // netvms before their clients
  std::vector<LinkPlan> links;
  const QubePlan* Find(std::string_view name) const;
};

// Errors name the qube (the config parser has already checked positions).
// `now` (unix seconds) resolves relative expiries (expire=+N) in the
// chain file's firewall rules.
Result<Plan> BuildPlan(const config::ChainSpec& spec, int64_t now);

// A client qube's uplink: eth0 with its own address, its netvm's address as
// gateway (IPv6 too when the chain routes it and both have one), the vif's
// MAC. Chained qubes and disposables are attached the same way.
qube::Uplink ClientUplink(const Plan& plan, const QubePlan& q, const QubePlan& netvm);

}  // namespace qnet::chain
