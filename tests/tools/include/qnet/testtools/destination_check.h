// Where qnet-blast may send: the lab's address ranges and loopback only.
#pragma once

#include "qnet/base/ip.h"
#include "qnet/base/result.h"

namespace qnet::testtools {

// OK for addresses in 10.0.0.0/8, 198.51.100.0/24, 203.0.113.0/24,
// 127.0.0.0/8, 2001:db8::/32, fd00::/8 and ::1. Anything else fails with
// kPermissionDenied naming the address; 192.0.2.0/24 (this machine's own
// network) always fails, whatever the list above says.
Status CheckBlastDestination(const IpAddr& addr);

}  // namespace qnet::testtools
