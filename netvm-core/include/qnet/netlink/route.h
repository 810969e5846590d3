// rtnetlink layer-3 state: addresses, routes, neighbour (ARP/NDP) entries and
// proxy neighbour entries, added idempotently and listed.
//
// Same conventions as link.h: a NETLINK_ROUTE Socket opened in the namespace
// where the change happens; errors "<request> <object>: <strerror>" with the
// errno and codes kInvalidArgument / kNotFound / kAlreadyExists /
// kPermissionDenied / kNetlink. Functions taking an ifname resolve it first
// (one RTM_GETLINK) and then send one request: two round trips; the *ByIndex
// variants and Route::dev_index skip the lookup. Adds use NLM_F_CREATE|NLM_F_REPLACE, so applying
// the same state twice succeeds and changes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"
#include "qnet/netlink/mac.h"
#include "qnet/netlink/socket.h"

namespace qnet::netlink {

// rtnetlink scopes (RT_SCOPE_*).
enum class Scope : uint8_t {
  kUniverse = 0,
  kSite = 200,
  kLink = 253,
  kHost = 254,
  kNowhere = 255,
};

// ---- addresses ----

struct AddrOptions {
  bool nodad = false;          // IPv6: IFA_F_NODAD, usable at once (no DAD)
  std::optional<IpAddr> peer;  // point-to-point peer (IFA_ADDRESS)
  Scope scope = Scope::kUniverse;
};

struct AddrInfo {
  int ifindex = 0;
  IpPrefix prefix;             // the local address (IFA_LOCAL) and prefix length
  std::optional<IpAddr> peer;  // set when IFA_ADDRESS differs from IFA_LOCAL
  Scope scope = Scope::kUniverse;
  uint32_t flags = 0;  // IFA_F_* (IFA_FLAGS when present)
  std::string label;   // IFA_LABEL (IPv4 only)
};

// Adds (or re-applies) prefix.addr()/prefix.len() on ifname.
Status AddAddress(Socket& sock, std::string_view ifname, const IpPrefix& prefix,
                  const AddrOptions& opts = {});
Status AddAddressByIndex(Socket& sock, int ifindex, const IpPrefix& prefix,
                         const AddrOptions& opts = {});
// Removes the address. kNotFound (EADDRNOTAVAIL) if it is not there.
Status DeleteAddress(Socket& sock, std::string_view ifname, const IpPrefix& prefix);
// Every address (both families), or only ifname's when given (kNotFound if
// that link is missing). One dump; filtering happens here.
Result<std::vector<AddrInfo>> ListAddresses(Socket& sock,
                                            std::optional<std::string_view> ifname = {});

// ---- routes ----

struct Route {
  IpPrefix dst;                    // 0.0.0.0/0 or ::/0 for a default route
  std::optional<IpAddr> gateway;   // RTA_GATEWAY
  std::optional<std::string> dev;  // RTA_OIF by name (resolved: one more round trip)
  int dev_index = 0;               // RTA_OIF by index; used instead of dev when > 0
  Scope scope = Scope::kUniverse;  // kLink for a directly attached /32
  bool onlink = false;             // RTNH_F_ONLINK: trust the gateway is on dev
  std::optional<IpAddr> prefsrc;   // RTA_PREFSRC
  uint32_t metric = 0;             // RTA_PRIORITY (0: not sent)
  uint32_t table = 254;            // RT_TABLE_MAIN
};

struct RouteInfo {
  IpPrefix dst;
  std::optional<IpAddr> gateway;
  int oif = 0;  // 0 if none
  Scope scope = Scope::kUniverse;
  bool onlink = false;
  std::optional<IpAddr> prefsrc;
  uint32_t metric = 0;
  uint32_t table = 0;
  uint8_t type = 0;      // RTN_* (RTN_UNICAST, RTN_LOCAL, ...)
  uint8_t protocol = 0;  // RTPROT_*
};

// Adds or replaces the route (unicast, protocol static). The gateway, prefsrc
// and dst must be of one family. kNotFound if dev is missing.
Status AddRoute(Socket& sock, const Route& route);
// Deletes the route matching dst, table, and gateway/dev when given.
Status DeleteRoute(Socket& sock, const Route& route);
// Every route of one family in every table (main, local, ...).
Result<std::vector<RouteInfo>> ListRoutes(Socket& sock, IpAddr::Family family);

// ---- neighbours ----

struct NeighInfo {
  int ifindex = 0;
  IpAddr dst;
  std::optional<Mac> lladdr;  // none for proxy entries and incomplete ones
  uint16_t state = 0;         // NUD_* (NUD_PERMANENT, NUD_REACHABLE, ...)
  uint8_t flags = 0;          // NTF_*
  bool proxy = false;         // an NTF_PROXY entry
};

// Adds or replaces an ARP/NDP entry addr -> mac on ifname: NUD_PERMANENT when
// permanent, else NUD_REACHABLE (ages out like a learned entry).
Status AddNeighbour(Socket& sock, std::string_view ifname, const IpAddr& addr, const Mac& mac,
                    bool permanent = true);
Status AddNeighbourByIndex(Socket& sock, int ifindex, const IpAddr& addr, const Mac& mac,
                           bool permanent = true);
// Adds a proxy entry (NTF_PROXY): the kernel answers ARP/NDP for addr on
// ifname. For IPv6 the link needs net/ipv6/conf/<if>/proxy_ndp = 1.
Status AddProxyNeighbour(Socket& sock, std::string_view ifname, const IpAddr& addr);
// Removes a regular (proxy=false) or proxy entry. kNotFound if absent.
Status DeleteNeighbour(Socket& sock, std::string_view ifname, const IpAddr& addr,
                       bool proxy = false);
// Every regular neighbour entry of both families.
Result<std::vector<NeighInfo>> ListNeighbours(Socket& sock);
// Every proxy entry of both families.
Result<std::vector<NeighInfo>> ListProxyNeighbours(Socket& sock);

}  // namespace qnet::netlink
