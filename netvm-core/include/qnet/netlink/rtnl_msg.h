// The pure core of link.h and route.h: rtnetlink requests built from values
// and kernel messages parsed into values, with no I/O. link.cc and route.cc
// only resolve names, send a Request and parse what comes back; unit tests
// build a request and parse it back.
//
// A Request owns its buffer. Builders validate their input and return
// kInvalidArgument naming the object; parsers never trust the message and
// return kProtocol for one that is truncated or malformed. Thread-compatible.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"
#include "qnet/netlink/link.h"
#include "qnet/netlink/mac.h"
#include "qnet/netlink/route.h"

namespace qnet::netlink {

// One netlink request message in an owned, aligned buffer.
class Request {
 public:
  static constexpr size_t kCapacity = 1024;  // enough for every request here

  // An empty message of `type` with NLM_F_REQUEST|flags, seq 0.
  Request(uint16_t type, uint16_t flags);

  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  const nlmsghdr* header() const { return reinterpret_cast<const nlmsghdr*>(buf_.data()); }
  size_t size() const { return header()->nlmsg_len; }
  void set_seq(uint32_t seq) { header()->nlmsg_seq = seq; }

 private:
  std::vector<uint64_t> buf_;  // uint64_t: nlmsghdr and attributes need alignment
};

// ---- links ----

// What RTM_SETLINK changes on an existing link; unset fields are untouched.
struct LinkChange {
  std::optional<bool> up;
  std::optional<int> master;  // ifindex; 0 releases from its master
  std::optional<uint32_t> mtu;
};

// RTM_GETLINK for one link by name (IFLA_IFNAME).
Result<Request> BuildGetLink(std::string_view ifname);
// RTM_GETLINK dump of every link.
Request BuildDumpLinks();
// RTM_NEWLINK kind veth, NLM_F_CREATE|NLM_F_EXCL, peer in VETH_INFO_PEER
// (with IFLA_NET_NS_FD when spec.peer_netns_fd >= 0).
Result<Request> BuildNewVeth(const VethSpec& spec);
// RTM_NEWLINK of a link kind that needs no options ("bridge", "dummy").
Result<Request> BuildNewLink(std::string_view kind, std::string_view name);
// RTM_SETLINK by name (ifi_index 0, IFLA_IFNAME).
Result<Request> BuildSetLink(std::string_view ifname, const LinkChange& change);
// RTM_DELLINK by name.
Result<Request> BuildDeleteLink(std::string_view ifname);
// An RTM_NEWLINK message (reply or request) as a LinkInfo.
Result<LinkInfo> ParseLink(const nlmsghdr* nlh);

// ---- addresses ----

// RTM_NEWADDR (type RTM_NEWADDR, NLM_F_CREATE|NLM_F_REPLACE) or RTM_DELADDR.
Result<Request> BuildAddress(uint16_t type, int ifindex, const IpPrefix& prefix,
                             const AddrOptions& opts);
// RTM_GETADDR dump of both families.
Request BuildDumpAddresses();
Result<AddrInfo> ParseAddress(const nlmsghdr* nlh);

// ---- routes ----

// RTM_NEWROUTE (NLM_F_CREATE|NLM_F_REPLACE) or RTM_DELROUTE; oif is the
// resolved device (0: none); route.dev and route.dev_index are ignored.
Result<Request> BuildRoute(uint16_t type, const Route& route, int oif);
// RTM_GETROUTE dump of one family.
Request BuildDumpRoutes(IpAddr::Family family);
Result<RouteInfo> ParseRoute(const nlmsghdr* nlh);

// ---- neighbours ----

// RTM_NEWNEIGH (NLM_F_CREATE|NLM_F_REPLACE) or RTM_DELNEIGH. A proxy entry
// (NTF_PROXY) carries no lladdr.
Result<Request> BuildNeighbour(uint16_t type, int ifindex, const IpAddr& addr,
                               const std::optional<Mac>& lladdr, uint16_t state, bool proxy);
// RTM_GETNEIGH dump of regular entries, or of proxy entries.
Request BuildDumpNeighbours(bool proxy);
Result<NeighInfo> ParseNeighbour(const nlmsghdr* nlh);

}  // namespace qnet::netlink
