// The Qubes 4 address plan: a qube's addresses and link names follow from
// its id. Pure functions, thread-safe.
//
// IPv4 is Qubes' vmid_to_ipv4 (qubes/vm/mix/net.py): for id N < 255,
// 10.137.(N>>8).(N&0xff) = 10.137.0.N; for N >= 255, with M = N-1,
// 10.137.(M/254).(M%254+1), so the last octet is never 0 or 255. Disposables
// use 10.138 instead of 10.137. Qubes stops at qid 254 for normal qubes; qnet
// continues the same formula up to kMaxQubeId (10.137.255.254).
//
// IPv6 is Qubes' get_ip6_for_vm: the prefix fd09:24ef:4179:0000 (qubes.config
// qubes_ipv6_prefix), then ::a89:<id in hex> (disposables ::a8a:<id>). Qubes
// puts the id itself, not the IPv4 mapping, in the last 16-bit group, so
// 255 -> ::a89:ff and 509 -> ::a89:1fd.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"

namespace qnet::qube {

// Lowest and highest ids the plan gives addresses to. Id 0 is dom0 in Qubes;
// above kMaxQubeId the third IPv4 octet would exceed 255.
inline constexpr uint32_t kMinQubeId = 1;
inline constexpr uint32_t kMaxQubeId = 65024;

// Returns kInvalidArgument unless kMinQubeId <= id <= kMaxQubeId:
//   qube id 0 out of range (1..65024)
Status ValidateQubeId(uint32_t id);

// The qube's IPv4 address (see above). Errors as ValidateQubeId.
Result<IpAddr> Ipv4ForId(uint32_t id, bool disposable = false);

// The qube's IPv6 address (see above). Errors as ValidateQubeId.
Result<IpAddr> Ipv6ForId(uint32_t id, bool disposable = false);

// The prefix every qube's IPv6 address is in: fd09:24ef:4179::/64.
IpPrefix QubesIpv6Prefix();

// Qubes' virtual DNS servers, 10.139.1.1 and 10.139.1.2: every client uses
// them and every netvm DNATs them to its upstream. Qubes defines no IPv6
// virtual DNS (NetVMMixin.dns lists only these two), so neither does qnet.
std::array<IpAddr, 2> VirtualDnsServers();

// Linux interface name limit: IFNAMSIZ (16) minus the terminating NUL.
inline constexpr size_t kMaxIfNameLength = 15;

// The client side of every qube's uplink, inside the client.
inline constexpr std::string_view kClientIfName = "eth0";

// Returns kInvalidArgument when name is empty, longer than kMaxIfNameLength,
// "." or "..", or holds '/', ':', whitespace or a control character (what the
// kernel's dev_valid_name refuses, plus ':' which ip(8) reserves for aliases).
Status ValidateIfName(std::string_view name);

// The netvm side of the link of client qube `client_id`: "vif<id>.0", as Xen
// names it in Qubes. Errors as ValidateQubeId, or ValidateIfName.
Result<std::string> VifName(uint32_t client_id);

}  // namespace qnet::qube
