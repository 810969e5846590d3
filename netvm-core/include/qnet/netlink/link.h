// rtnetlink link operations: look up, list, create (veth, bridge, dummy),
// enslave, bring up/down and delete network interfaces.
//
// Every function takes a NETLINK_ROUTE Socket opened in the network namespace
// where the operation happens (Socket::OpenInNetns); the calling thread's own
// namespace does not matter. Each call is one netlink round trip (SetMaster:
// two, it resolves the master's index first). Same thread-safety as Socket:
// one thread uses a socket at a time.
//
// Errors carry the errno and a message "<request> <object>: <strerror>", e.g.
// "RTM_NEWLINK veth vif12.0: File exists". Codes: kInvalidArgument for a bad
// interface name (checked before anything is sent), kNotFound (ENODEV, ENOENT),
// kAlreadyExists (EEXIST), kPermissionDenied (EPERM), else kNetlink.
// When the kernel adds an extended-ack message it is appended in parentheses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/netlink/mac.h"
#include "qnet/netlink/socket.h"

namespace qnet::netlink {

// Longest interface name the kernel accepts (IFNAMSIZ - 1).
inline constexpr size_t kMaxIfNameLen = 15;

// Checks an interface name the way the kernel's dev_valid_name does: 1..15
// bytes, not "." or "..", no '/', ':' or whitespace. kInvalidArgument naming
// the name otherwise.
Status ValidateIfName(std::string_view ifname);

// One interface as RTM_NEWLINK reports it.
struct LinkInfo {
  int index = 0;
  std::string name;
  bool up = false;         // administratively up (IFF_UP)
  bool lower_up = false;   // carrier (IFF_LOWER_UP)
  unsigned flags = 0;      // all IFF_* flags
  std::optional<Mac> mac;  // IFLA_ADDRESS when it is an Ethernet address
  uint32_t mtu = 0;
  std::string kind;  // IFLA_INFO_KIND ("veth", "bridge", "dummy", ...); "" if none
  int master = 0;    // IFLA_MASTER: the bridge it is enslaved to, 0 if none
};

// A veth pair. Both ends are created DOWN. `name` is created in the socket's
// namespace; `peer_name` directly in the namespace peer_netns_fd refers to
// (IFLA_NET_NS_FD inside VETH_INFO_PEER), so the peer never exists anywhere
// else, or in the socket's namespace when peer_netns_fd is -1. The fd is only
// read during the call; the caller keeps ownership.
struct VethSpec {
  std::string name;
  std::string peer_name;
  int peer_netns_fd = -1;
  std::optional<Mac> mac;       // nullopt: the kernel picks a random one
  std::optional<Mac> peer_mac;  // same
  std::optional<uint32_t> mtu;  // both ends; nullopt: kernel default (1500)
};

// The ifindex of ifname. kNotFound if there is no such link.
Result<int> LinkIndex(Socket& sock, std::string_view ifname);
// One link by name. kNotFound if there is no such link.
Result<LinkInfo> GetLink(Socket& sock, std::string_view ifname);
// Every link in the socket's namespace, in the kernel's order (by index).
Result<std::vector<LinkInfo>> ListLinks(Socket& sock);

// Creates a veth pair (see VethSpec). kAlreadyExists if either name is taken
// in its namespace; then nothing is created.
Status CreateVeth(Socket& sock, const VethSpec& spec);
// Creates a bridge (DOWN). kAlreadyExists if the name is taken.
Status CreateBridge(Socket& sock, std::string_view name);
// Creates a dummy interface (DOWN). kAlreadyExists if the name is taken.
Status CreateDummy(Socket& sock, std::string_view name);

// Enslaves ifname to the bridge `master`; an empty master releases it.
// kNotFound if either link is missing.
Status SetMaster(Socket& sock, std::string_view ifname, std::string_view master);
// Sets IFF_UP (up=true) or clears it. Idempotent. kNotFound if missing.
Status SetLinkUp(Socket& sock, std::string_view ifname, bool up);
// Sets the MTU. kNotFound if missing.
Status SetMtu(Socket& sock, std::string_view ifname, uint32_t mtu);
// Deletes a link (for a veth, both ends, whichever namespace the peer is in).
// kNotFound if there is no such link; callers that want idempotence ignore it.
Status DeleteLink(Socket& sock, std::string_view ifname);

}  // namespace qnet::netlink
