// Commit: sends a Batch to the kernel as one nftables transaction and drains
// every ACK.
//
// The kernel applies the whole batch or nothing. Commit returns ok only when
// every message of the batch was acknowledged without error. Errors:
//  - the batch's own validation error (Batch::status()), wrapped "nft: ...";
//    nothing is sent;
//  - kNetlink with errno: the first message the kernel refused, e.g.
//    "nft: NEWRULE seq 17 (chain fw-10-137-0-12): Operation not permitted";
//    the transaction was aborted, the old rules are in place;
//  - kNetlink ENOBUFS: ACKs were lost (receive buffer overflow); whether the
//    batch was applied is unknown: read the table back;
//  - kIo / kTimeout: the socket failed or no ACK came within `timeout`.
// Commit enlarges the socket's send and receive buffers as the batch needs
// (SO_*BUFFORCE, CAP_NET_ADMIN), sets NETLINK_CAP_ACK on it, and first
// discards any stale message queued on the socket. Not thread-safe: one user
// of the socket at a time.
#pragma once

#include <chrono>

#include "qnet/base/result.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/batch.h"

namespace qnet::nft {

// nfsock: a NETLINK_NETFILTER socket in the namespace whose rules change.
Status Commit(netlink::Socket& nfsock, const Batch& batch,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace qnet::nft
