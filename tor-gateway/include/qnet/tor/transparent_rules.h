// The `tor` capability's ruleset (security contract 2, 3, 6, 7): a pure
// function from the gateway's parameters to the capability's five chains,
// its gate set and its named counters, inside the qube's `inet qnet` table
// (nft/base_table.h). Thread-safe, no I/O.
//
//   tor-prerouting (nat)   downstream = iifname "vif*", IPv4 only:
//     udp dport 53, l4proto in @tor-open  dnat to <gw>:<DNSPort>
//     tcp dport 53, l4proto in @tor-open  dnat to <gw>:<DNSPort>
//     tcp flags syn / fin,syn,rst,ack, l4proto in @tor-open
//                                         dnat to <gw>:<TransPort>
//   tor-input (filter)
//     iifname "vif*" ct state established,related accept
//     iifname "vif*" ip daddr <gw> tcp dport {TransPort, SocksPort, DNSPort}
//                    / udp dport DNSPort, l4proto in @tor-open     accept
//     iifname "vif*" (IPv4) tcp                 counter tor-refused reject with tcp reset
//     iifname "vif*" (IPv4) udp dport {53, DNSPort}  counter tor-refused reject port-unreachable
//     iifname "vif*" counter name tor-downstream-drop drop
//     iifname <uplink> ct state established,related accept   (tor's connections)
//   tor-forward (filter)   the gateway never forwards:
//     iifname "vif*" (IPv4) tcp, l4proto not in @tor-open  counter tor-refused reject with tcp
//     reset iifname "vif*" (IPv4) udp dport 53, not open         counter tor-refused reject
//     port-unreachable counter name tor-forward-drop drop
//   tor-output (filter)
//     oifname <uplink> meta skuid <tor uid> accept   only tor reaches the uplink
//     oifname "vif*" ct state established,related accept
//     oifname "vif*" tcp flags rst accept; icmp destination-unreachable accept
//                                     (the refusals above, sent from this host)
//     oifname <uplink> counter name tor-uplink-drop drop
//   tor-postrouting: empty (no masquerade: nothing but tor leaves).
//
// The bootstrap gate is the set @tor-open (type inet_proto): empty while
// tor has not reported 100% (downstream TCP is reset at once, DNS gets port
// unreachable, which resolvers treat as refused, since nft cannot write a
// DNS REFUSED answer); {tcp, udp} once it has. GateBatch flips it in one
// transaction and touches nothing else. The rules never name tor's pid or
// socket: when tor dies, only its uid's sockets could use the uplink and
// there are none (contract 2); the gate is closed again by the agent, and
// while it is open a dead tor's ports refuse connections themselves.
// IPv6 from downstream is dropped whatever the chain's IPv6 mode (Tor
// transparent proxying here is IPv4 only).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/batch.h"
#include "qnet/nft/ruleset.h"

namespace qnet::tor {

inline constexpr std::string_view kCapability = "tor";
inline constexpr std::string_view kGateSet = "tor-open";
inline constexpr std::string_view kRefusedCounter = "tor-refused";
inline constexpr std::string_view kDownstreamDropCounter = "tor-downstream-drop";
inline constexpr std::string_view kForwardDropCounter = "tor-forward-drop";
inline constexpr std::string_view kUplinkDropCounter = "tor-uplink-drop";
inline constexpr std::string_view kDownstreamPrefix = "vif";

struct GatewayRulesParams {
  std::string uplink;      // the gateway's interface toward its netvm, "eth0"
  IpAddr gateway_address;  // IPv4, where TransPort/DNSPort/SocksPort listen
  uint16_t trans_port = 9040;
  uint16_t dns_port = 5300;
  uint16_t socks_port = 9050;
  uint32_t tor_uid = 0;  // the uid tor runs as (never 0)
};

enum class Gate : uint8_t { kClosed, kOpen };

struct GatewayRules {
  std::map<std::string, std::vector<nft::Rule>> chains;  // all five tor-* chains
  std::vector<nft::SetContents> sets;                    // tor-open, per the gate
  std::vector<nft::CounterObject> counters;
};

// kInvalidArgument for an IPv6 or unset gateway address, uid 0, an empty or
// overlong uplink name, port 0 or equal ports.
Result<GatewayRules> BuildGatewayRules(const GatewayRulesParams& params, Gate gate);

// One transaction that creates the counters (if missing) and flushes and
// refills the five chains and the gate set. The base table and the
// capability's chains must be installed (nft::InstallCapabilitiesBatch).
nft::Batch ApplyBatch(const GatewayRules& rules);

// The gate set's contents for `gate`.
nft::SetContents GateSetContents(Gate gate);
// One transaction that flushes and refills only @tor-open.
nft::Batch GateBatch(Gate gate);

}  // namespace qnet::tor
