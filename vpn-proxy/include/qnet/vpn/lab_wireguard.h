// The lab's WireGuard server (DESIGN "The lab"): wireguard-go in its own
// lab namespace at 203.0.113.20:51820, forwarding its tunnel into the lab
// and masquerading to 203.0.113.21 (2001:db8:2::21). Keys are made at lab
// start; the client side is a wg-quick file the lab hands to `wireguard =
// "lab"` qubes. This is the plan as values (pure once the keys are given);
// the lab runtime creates the namespace, starts the daemon and applies it.
//
// Tunnel addresses: server 10.66.66.1/24 and fd66:66::1/64, client
// 10.66.66.2 and fd66:66::2. The client's DNS is the server's tunnel
// address: the server answers DNS by DNAT to the lab resolver
// (203.0.113.53), so the lab DNS sees queries from the VPN egress only.
#pragma once

#include <string_view>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"
#include "qnet/vpn/device.h"
#include "qnet/vpn/key.h"
#include "qnet/vpn/wg_quick.h"

namespace qnet::vpn {

struct LabWireguardPlan {
  static constexpr uint16_t kPort = 51820;
  static IpAddr ServerAddress();    // 203.0.113.20
  static IpAddr ServerAddress6();   // 2001:db8:2::20
  static IpAddr Egress();           // 203.0.113.21
  static IpAddr Egress6();          // 2001:db8:2::21
  static IpPrefix ServerTunnel();   // 10.66.66.1/24
  static IpPrefix ServerTunnel6();  // fd66:66::1/64
  static IpPrefix ClientTunnel();   // 10.66.66.2/32
  static IpPrefix ClientTunnel6();  // fd66:66::2/128

  Key server_private;
  Key server_public;
  Key client_private;
  Key client_public;

  // The server's device: listen port 51820, one peer (the client) allowed
  // only its own tunnel addresses; replaces whatever was there.
  Device ServerDevice(std::string_view ifname) const;
  // The client's wg-quick file: both tunnel addresses, DNS 10.66.66.1,
  // the server at 203.0.113.20:51820, everything routed, keepalive 25.
  WgQuickConfig ClientConfig() const;
};

// From given private keys (tests); kInvalidArgument for a zero key or the
// same key twice.
Result<LabWireguardPlan> MakeLabWireguardPlan(const Key& server_private, const Key& client_private);
// With fresh keys from the system's CSPRNG (lab start).
Result<LabWireguardPlan> GenerateLabWireguardPlan();

}  // namespace qnet::vpn
