// Receiving netlink datagrams without growing the kernel's dump size
// (private to the nft library).
//
// The kernel sizes later dump messages by the largest buffer a reader ever
// passed to recvmsg (up to ~32 KiB), and a reader with a smaller buffer then
// loses them (MSG_TRUNC, ENOSPC in libmnl). These helpers peek at each
// datagram's size and read exactly that much, so they never raise it.
#pragma once

#include <cstddef>
#include <vector>

#include "qnet/base/result.h"

namespace qnet::nft::internal {

// Reads one datagram into buf (resized to fit). flags: 0 or MSG_DONTWAIT.
// Errors keep errno (EAGAIN, ENOBUFS, ...) in Error::sys_errno().
Result<size_t> RecvDatagram(int fd, std::vector<char>& buf, int flags);

// Drops every datagram already queued (and a pending ENOBUFS).
void DiscardQueued(int fd);

}  // namespace qnet::nft::internal
