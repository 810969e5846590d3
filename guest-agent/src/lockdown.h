// Contract 1: the qube's table exists, default drop, before anything else.
#pragma once

#include "qnet/base/result.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/committer.h"

namespace qnet::agent {

// Creates the qube's `inet qnet` table with every filter base chain ending
// in a counted drop (nft::LockdownBatch), unless it already exists (an
// agent restart must never flush what the previous incarnation installed).
// *created tells which. nf reads the table; nft commits.
Status Lockdown(netlink::Socket& nf, nft::Committer& nft, bool* created);

}  // namespace qnet::agent
