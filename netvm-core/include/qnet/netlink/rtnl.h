// rtnetlink for qnet in one include: links (link.h), addresses, routes and
// neighbours (route.h), MAC addresses (mac.h). See those headers' contracts.
#pragma once

#include "qnet/netlink/link.h"    // IWYU pragma: export
#include "qnet/netlink/mac.h"     // IWYU pragma: export
#include "qnet/netlink/route.h"   // IWYU pragma: export
#include "qnet/netlink/socket.h"  // IWYU pragma: export
