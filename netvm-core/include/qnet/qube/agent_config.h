// The protocol between qnetd and a qube's agent: what qnet.Configure carries
// (the qube's addresses, its uplink, its clients, its DNS, and one section
// per capability), and the reply codes of the agent's calls. Plain values
// with a JSON form; both sides link this library, neither includes the other.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"
#include "qnet/qube/role.h"

namespace qnet::qube {

// The qube's link toward its netvm (eth0), or sys-net's uplink to the lab.
struct Uplink {
  std::string ifname;  // "eth0", or "uplink0" for sys-net
  IpPrefix addr4;      // client: own address /32; sys-net: 198.51.100.2/24
  IpAddr gateway4;     // the netvm's address, or the lab router
  std::optional<IpPrefix> addr6;
  std::optional<IpAddr> gateway6;
  // Qubes clients: the gateway's MAC is fixed and its neighbour entry permanent.
  std::optional<std::string> gateway_mac;
};

// A client attached directly to this (network-providing) qube.
struct Client {
  std::string name;
  uint32_t id = 0;
  std::string vif;  // "vif<id>.0"
  IpAddr addr4;
  std::optional<IpAddr> addr6;
};

struct AgentConfig {
  std::string qube;
  Role role = Role::kApp;
  bool ipv6 = false;  // chain ipv6 = "routed"
  IpAddr addr4;       // the qube's own Qubes address
  std::optional<IpAddr> addr6;
  std::optional<Uplink> uplink;
  std::vector<Client> clients;
  // Where this netvm sends its clients' virtual DNS (10.139.1.1/.2); empty: dropped.
  std::vector<IpAddr> dns_upstream;
  // The qube's own /etc/resolv.conf.
  std::vector<IpAddr> nameservers;
  // Role-specific data, one JSON text per capability name (for example the
  // firewall's client lists). This library checks only that each is JSON:
  // the capability that owns a section parses and validates it.
  std::map<std::string, std::string> sections;

  // The client named `name`, or nullptr.
  const Client* FindClient(std::string_view name) const;
};

std::string ToJson(const AgentConfig& c);
// Every field is checked; the error names it, e.g. "config.clients[1].addr4:
// ..." (bad input changes nothing).
Result<AgentConfig> AgentConfigFromJson(std::string_view text);

// The MAC Qubes gives the netvm side of every vif (clients pin it).
inline constexpr const char* kVifMac = "fe:ff:ff:ff:ff:ff";

// Exit codes of the agent's calls that change rules (qnet.Configure,
// qnet.Firewall): how the change ended.
enum class AgentReply : int {
  kApplied = 0,  // in force
  kRefused = 1,  // bad input (it does not parse or compile): nothing changed
  kDropAll = 2,  // the kernel refused it: what it covers is in drop-all, the
                 // new input is kept (a retry may succeed)
  kFailed = 3,   // the kernel refused it and the drop-all: the old rules hold
};

}  // namespace qnet::qube
