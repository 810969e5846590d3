// Values the WireGuard backend tests share: keys filled with one byte, and
// the example device both backends encode (one peer with every field, one
// peer removed), so the genetlink and UAPI tests set the same thing.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "qnet/base/ip.h"
#include "qnet/vpn/device.h"
#include "qnet/vpn/key.h"

namespace qnet::vpn::testing {

inline Key K(uint8_t fill) {
  std::array<uint8_t, kKeyLen> b;
  b.fill(fill);
  return Key(b);
}
inline IpPrefix Net(std::string_view s) { return *IpPrefix::Parse(s); }
inline IpAddr Ip(std::string_view s) { return *IpAddr::Parse(s); }

// wg0 with private key K(1), fwmark 0x51820, replacing its peers by: K(2)
// (preshared key K(3), `endpoint`, keepalive 25, all of IPv4 and IPv6,
// replacing its allowed IPs) and the removal of K(4).
inline Device ExampleDevice(const SocketAddr& endpoint, uint16_t listen_port) {
  Device d;
  d.name = "wg0";
  d.private_key = K(1);
  d.listen_port = listen_port;
  d.fwmark = 0x51820;
  d.replace_peers = true;
  DevicePeer p;
  p.public_key = K(2);
  p.preshared_key = K(3);
  p.endpoint = endpoint;
  p.persistent_keepalive = 25;
  p.replace_allowed_ips = true;
  p.allowed_ips = {Net("0.0.0.0/0"), Net("::/0")};
  d.peers.push_back(p);
  DevicePeer gone;
  gone.public_key = K(4);
  gone.remove = true;
  d.peers.push_back(gone);
  return d;
}

}  // namespace qnet::vpn::testing
