// A WireGuard device as both backends see it: what a set operation changes
// and what a get operation reports, in the shape of wireguard-tools'
// embeddable library (wg_device / wg_peer / wg_allowedip).
//
// One value type serves both directions. Fields marked "set" are flags of a
// change and are ignored (false) in what a get returns; fields marked "get"
// are state the device reports and are never sent. Regular value types,
// thread-compatible. Keys inside are secrets (see key.h): ToString-style
// output of a Device never exists; log the public facts one by one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/vpn/key.h"
#include "qnet/vpn/wg_quick.h"

namespace qnet::vpn {

// A resolved endpoint: an address and a UDP port.
struct SocketAddr {
  IpAddr addr;
  uint16_t port = 0;
  std::string ToString() const;  // "203.0.113.20:51820", "[2001:db8::1]:51820"
  bool operator==(const SocketAddr&) const = default;
};

struct DevicePeer {
  Key public_key;
  // set: nullopt leaves it; a zero key removes it. get: zero when none.
  std::optional<Key> preshared_key;
  std::optional<SocketAddr> endpoint;
  std::optional<uint16_t> persistent_keepalive;  // seconds; 0 off
  std::vector<IpPrefix> allowed_ips;

  bool remove = false;               // set: WGPEER_F_REMOVE_ME
  bool replace_allowed_ips = false;  // set: WGPEER_F_REPLACE_ALLOWEDIPS
  bool update_only = false;          // set: WGPEER_F_UPDATE_ONLY (never create)

  int64_t last_handshake_sec = 0;  // get: 0 = never
  int64_t last_handshake_nsec = 0;
  uint64_t rx_bytes = 0;          // get
  uint64_t tx_bytes = 0;          // get
  uint32_t protocol_version = 0;  // get (1); set: 0 = the kernel's default

  bool operator==(const DevicePeer&) const = default;
};

struct Device {
  std::string name;                // interface name (1..15 bytes)
  int ifindex = 0;                 // get
  std::optional<Key> private_key;  // set: nullopt leaves it. get: absent when unset
  std::optional<Key> public_key;   // get
  std::optional<uint16_t> listen_port;
  std::optional<uint32_t> fwmark;  // 0 = none
  bool replace_peers = false;      // set: WGDEVICE_F_REPLACE_PEERS
  std::vector<DevicePeer> peers;
  bool operator==(const Device&) const = default;
};

// The device a wg-quick file describes, to be set with replace_peers and
// every peer's replace_allowed_ips, as `wg syncconf` would. endpoints[i] is
// the resolved address of config.peers[i].endpoint (names are resolved by
// the caller, inside the qube); kInvalidArgument if the sizes differ.
Result<Device> DeviceFromConfig(const WgQuickConfig& config, std::string_view ifname,
                                const std::vector<SocketAddr>& endpoints);

}  // namespace qnet::vpn
