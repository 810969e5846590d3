// Private helpers for reading rtnetlink attributes defensively: the kernel's
// messages are input, never asserted on.
#pragma once

#include <libmnl/libmnl.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"

namespace qnet::netlink::internal {

// Attributes indexed by type (nullptr where absent; the last one of a type
// wins; types above the table's max are ignored).
using AttrTable = std::vector<const nlattr*>;

// The attributes after nlh's family header of header_len bytes. kProtocol if
// the message is shorter than that header.
Result<AttrTable> IndexAttrs(const nlmsghdr* nlh, size_t header_len, uint16_t max_type);
// The attributes nested in attr.
AttrTable IndexNested(const nlattr* attr, uint16_t max_type);

// Typed reads; kProtocol naming `what` when the payload has the wrong size.
Result<uint32_t> AttrU32(const nlattr* attr, const char* what);
// A string attribute, with or without its terminating NUL.
std::string AttrString(const nlattr* attr);
// An IPv4 (4 bytes) or IPv6 (16 bytes) address of the given AF_* family.
Result<IpAddr> AttrIp(const nlattr* attr, int family, const char* what);

// AF_INET / AF_INET6 for an address family value.
inline int AfOf(IpAddr::Family f) { return f == IpAddr::Family::kV4 ? AF_INET : AF_INET6; }
// Puts addr as attribute `type`.
void PutIp(nlmsghdr* nlh, uint16_t type, const IpAddr& addr);

}  // namespace qnet::netlink::internal
