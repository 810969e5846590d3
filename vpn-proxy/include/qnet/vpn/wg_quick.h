// The wg-quick(8) configuration file, as VPN providers ship it: values,
// a parser and a writer.
//
//   [Interface]                       [Peer] (one or more)
//   PrivateKey = base64               PublicKey = base64
//   Address = 10.64.0.2/32, fd00::2   PresharedKey = base64
//   DNS = 10.64.0.1, example.com      Endpoint = vpn.example.com:51820
//   MTU = 1420                        AllowedIPs = 0.0.0.0/0, ::/0
//   ListenPort = 51820                PersistentKeepalive = 25 | off
//   FwMark = 0x1234 | off
//
// Accepted as wg-quick and wg(8) accept it: section names and keys in any
// case, '#' comments anywhere on a line, blank lines, whitespace around and
// inside values (wg(8) removes all of it; Address and DNS may also be split
// by spaces, as wg-quick splits them), Address/DNS/AllowedIPs several per
// line and repeated, several [Interface] sections merged. PreUp, PostUp,
// PreDown, PostDown, SaveConfig and Table are recognised and refused: qnet
// never runs shell from a config, never writes the file back and routes the
// tunnel itself.
//
// Stricter than wg-quick (deliberate, see the module README): a scalar key
// given twice, a peer's PublicKey given twice, a peer without Endpoint, an
// IPv6 endpoint without brackets and port names ("https") are refused.
//
// Errors are kInvalidArgument with "FILE:LINE: KEY: what" (or "FILE:LINE:
// what" for a line without a key, "FILE: what" for something missing), and
// never contain a key's text. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"
#include "qnet/vpn/key.h"

namespace qnet::vpn {

// A peer's address: a host name or an address literal (kept as written,
// without brackets; resolved later, inside the qube) and a port (1..65535).
struct Endpoint {
  std::string host;
  uint16_t port = 0;

  // The literal address when host is one; nullopt for a name.
  std::optional<IpAddr> Address() const;
  // "host:port", "[v6]:port".
  std::string ToString() const;
  bool operator==(const Endpoint&) const = default;
};

struct WgInterface {
  Key private_key;
  std::vector<IpPrefix> addresses;      // as written (host bits kept)
  std::vector<IpAddr> dns;              // resolvers, in order
  std::vector<std::string> dns_search;  // search domains, in order
  std::optional<uint32_t> mtu;          // 576..65535
  std::optional<uint16_t> listen_port;  // 0: random
  std::optional<uint32_t> fwmark;       // 0: off
  bool operator==(const WgInterface&) const = default;
};

struct WgPeer {
  Key public_key;
  std::optional<Key> preshared_key;
  Endpoint endpoint;
  std::vector<IpPrefix> allowed_ips;             // as written; repeated lines appended
  std::optional<uint16_t> persistent_keepalive;  // 0: off
  bool operator==(const WgPeer&) const = default;
};

struct WgQuickConfig {
  WgInterface interface;
  std::vector<WgPeer> peers;  // at least one, public keys distinct
  bool operator==(const WgQuickConfig&) const = default;
};

// Parses a whole file. file_name prefixes every error. The result has a
// private key, at least one peer, and every peer a public key and endpoint.
Result<WgQuickConfig> ParseWgQuick(std::string_view text, std::string_view file_name);

// Writes a config that ParseWgQuick reads back equal. The text holds the
// private and preshared keys: it is a secret, as the file it came from.
std::string FormatWgQuick(const WgQuickConfig& config);

}  // namespace qnet::vpn
