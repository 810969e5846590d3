// What qnetd tells a qube's agent in qnet.Configure: the qube's addresses,
// its uplink, its clients and its DNS, as a value with a JSON form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"
#include "qnet/firewall/rule_list.h"

namespace qnet::agent {

// The qube's link toward its netvm (eth0), or sys-net's uplink to the lab.
struct Uplink {
  std::string ifname;               // "eth0", or "uplink0" for sys-net
  IpPrefix addr4;                   // client: own address /32; sys-net: 198.51.100.2/24
  IpAddr gateway4;                  // the netvm's address, or the lab router
  std::optional<IpPrefix> addr6;
  std::optional<IpAddr> gateway6;
  // Qubes clients: the gateway's MAC is fixed and its neighbour entry permanent.
  std::optional<std::string> gateway_mac;
};

// A client attached directly to this (network-providing) qube.
struct Client {
  std::string name;
  uint32_t id = 0;
  std::string vif;                  // "vif<id>.0"
  IpAddr addr4;
  std::optional<IpAddr> addr6;
  // Its firewall rules (empty: Qubes' default `accept`), enforced here. In
  // JSON: "rules", an array of canonical rule texts (firewall::FormatRule).
  firewall::RuleList rules;
};

struct AgentConfig {
  std::string qube;
  std::string role;                 // net | firewall | vpn | tor | app
  bool ipv6 = false;                // chain ipv6 = "routed"
  IpAddr addr4;                     // the qube's own Qubes address
  std::optional<IpAddr> addr6;
  std::optional<Uplink> uplink;
  std::vector<Client> clients;
  // Where this netvm sends its clients' virtual DNS (10.139.1.1/.2); empty: dropped.
  std::vector<IpAddr> dns_upstream;
  // The qube's own /etc/resolv.conf.
  std::vector<IpAddr> nameservers;
};

std::string ToJson(const AgentConfig& c);

// qnet.Firewall's input: one client's new rule list.
struct FirewallUpdate {
  std::string client;
  firewall::RuleList rules;
};
std::string ToJson(const FirewallUpdate& u);
// Each rule is parsed and validated; the error names the client and rule.
Result<FirewallUpdate> FirewallUpdateFromJson(std::string_view text);

// Every field is checked; the error names it (contract 9).
Result<AgentConfig> AgentConfigFromJson(std::string_view text);

// The MAC Qubes gives the netvm side of every vif (clients pin it).
inline constexpr const char* kVifMac = "fe:ff:ff:ff:ff:ff";

}  // namespace qnet::agent
