// The lab: the simulated internet that ships with qnet (docs/lab.md).
// Its addresses are fixed; they exist only inside the instance's namespaces.
#pragma once

#include "qnet/base/ip.h"

namespace qnet::chain::lab {

inline const IpPrefix kRouterUplink4 = *IpPrefix::Parse("198.51.100.1/24");
inline const IpPrefix kSysNetUplink4 = *IpPrefix::Parse("198.51.100.2/24");
inline const IpPrefix kRouterUplink6 = *IpPrefix::Parse("2001:db8:1::1/64");
inline const IpPrefix kSysNetUplink6 = *IpPrefix::Parse("2001:db8:1::2/64");
inline const IpPrefix kServers4 = *IpPrefix::Parse("203.0.113.1/24");
inline const IpPrefix kServers6 = *IpPrefix::Parse("2001:db8:2::1/64");
inline const IpAddr kWeb4 = *IpAddr::Parse("203.0.113.10");
inline const IpAddr kWeb6 = *IpAddr::Parse("2001:db8:2::10");
inline const IpAddr kDns4 = *IpAddr::Parse("203.0.113.53");
inline const IpAddr kDns6 = *IpAddr::Parse("2001:db8:2::53");

inline constexpr const char* kSysNetUplinkIf = "uplink0";
inline constexpr const char* kRouterUplinkIf = "sysnet0";
inline constexpr const char* kRouterBridge = "lab0";

// The lab DNS's initial records.
inline constexpr const char* kDefaultRecords =
    "# qnet lab DNS records: NAME TYPE VALUE [TTL]\n"
    "web.lab A 203.0.113.10 60\n"
    "web.lab AAAA 2001:db8:2::10 60\n"
    "dns.lab A 203.0.113.53 60\n"
    "dns.lab AAAA 2001:db8:2::53 60\n"
    "vpn.lab A 203.0.113.20 60\n";

}  // namespace qnet::chain::lab
