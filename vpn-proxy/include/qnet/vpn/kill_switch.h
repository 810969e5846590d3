// The vpn capability's kill switch (security contract 2, 3, 5 and 7) as a
// pure function: nft values for the chains, sets and counters the vpn
// capability owns in the qube's `inet qnet` table.
//
// The chains are guards, jumped before the netvm and firewall capabilities'
// chains of the same hook (the vpn role puts its capability first): each
// drops, with a named counter, what the kill switch forbids, accepts only
// the tunnel's own encrypted traffic, and hands everything else on (returns)
// to the capabilities after it, so a client's firewall rules still apply to
// what goes into the tunnel. Nothing here names another capability's chain.
//
//   vpn-forward     IPv6: dropped unless the config gives the tunnel an IPv6
//                   address and the chain routes IPv6.
//                   From a vif: out by the tunnel (by name) -> return; else
//                   drop. Userspace: the daemon link (the tunnel interface
//                   here) to the uplink only as UDP to an endpoint -> accept;
//                   replies back (ct established) -> accept. Anything else
//                   to or from the uplink -> drop.
//   vpn-output      To the uplink only UDP to an endpoint (kernel backend;
//                   with its fwmark when one is set) and, while an endpoint
//                   is a name, DNS to the upstream's virtual DNS; else drop.
//   vpn-input       Kernel backend: UDP from an endpoint -> accept.
//   vpn-prerouting  DNS from a vif to 10.139.1.1/.2 -> DNAT to the config's
//                   IPv4 DNS servers (in order, the last repeated), or drop
//                   when it has none: DNS of clients leaves by the tunnel
//                   (vpn-forward) or not at all.
//   vpn-postrouting Out by the tunnel -> masquerade (clients' addresses are
//                   not the tunnel's).
//
// Endpoints live in two sets, vpn-endpoints4 (ipv4_addr . inet_service) and
// vpn-endpoints6 (ipv6_addr . inet_service), which EndpointSets refills
// alone when an endpoint name resolves to new addresses: one transaction,
// the rules unchanged. Interfaces are matched by name, so a tunnel that is
// deleted or never created matches nothing and its traffic has nowhere to
// go (contract 2). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/ruleset.h"
#include "qnet/vpn/device.h"
#include "qnet/vpn/wg_quick.h"

namespace qnet::vpn {

inline constexpr std::string_view kVpnCapability = "vpn";
inline constexpr std::string_view kEndpointSet4 = "vpn-endpoints4";
inline constexpr std::string_view kEndpointSet6 = "vpn-endpoints6";
inline constexpr std::string_view kDropForwardCounter = "vpn-drop-forward";
inline constexpr std::string_view kDropOutputCounter = "vpn-drop-output";
inline constexpr std::string_view kDropDnsCounter = "vpn-drop-dns";

enum class Backend : uint8_t {
  kKernel,     // wg device in the qube; the kernel's UDP socket sends from here
  kUserspace,  // wireguard-go in a namespace of its own behind `tunnel`
};

struct KillSwitchInput {
  const WgQuickConfig* config = nullptr;  // DNS servers, tunnel addresses
  Backend backend = Backend::kUserspace;
  std::string uplink;  // toward the qube's netvm ("eth0")
  // What clients' traffic leaves by: the wg device (kernel) or the link
  // into wireguard-go's namespace (userspace).
  std::string tunnel;
  std::vector<SocketAddr> endpoints;  // resolved, one or more per peer
  bool chain_routes_ipv6 = false;     // the chain file's ipv6 = "routed"
  std::optional<uint32_t> fwmark;     // kernel: the device's fwmark, if set
  // The endpoints are not known yet (a name not resolved): no endpoint is
  // let out, the sets stay empty, and `endpoints` may be empty.
  bool closed = false;
};

struct KillSwitchRules {
  std::vector<nft::Chain> chains;  // vpn-input ... vpn-postrouting (regular)
  std::vector<nft::Rule> rules;    // in chain order
  std::vector<nft::SetContents> sets;
  std::vector<nft::CounterObject> counters;
};

// kInvalidArgument (naming the field) for a missing config, a bad interface
// name, the uplink used as the tunnel, or no endpoint (unless closed): a kill switch that
// lets nothing out would still be safe, but it is a configuration mistake.
Result<KillSwitchRules> CompileKillSwitch(const KillSwitchInput& in);

// The kill switch as one batch for the qube's `inet qnet` table: its
// counters, then its chains replaced with their rules and sets.
nft::Batch KillSwitchBatch(const KillSwitchRules& ks);

// The two endpoint sets with the given contents.
std::vector<nft::SetContents> EndpointSets(const std::vector<SocketAddr>& endpoints);

// The endpoints the kill switch must let out, from what a wg-quick file
// names: literal addresses directly; names go through `resolved` (name ->
// addresses, resolved in the qube). kUnavailable naming the host when a name
// has no addresses (the tunnel then stays closed).
Result<std::vector<SocketAddr>> ResolveEndpoints(
    const WgQuickConfig& config,
    const std::vector<std::pair<std::string, std::vector<IpAddr>>>& resolved);

}  // namespace qnet::vpn
