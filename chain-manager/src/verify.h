// qnetd's own reading of a qube's table over netlink, inside the qube's
// network namespace: the agent's word is never enough (lockdown first).
// Each call opens its own netfilter socket; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "qnet/base/result.h"
#include "qnet/chain/backend.h"  // DropCounters

namespace qnet::chain {

// OK when the qube's `inet qnet` table holds the filter base chains with
// policy drop, each ending in its named drop counter and drop rule (see
// nft::VerifyLockdown). The error names the qube and every problem found.
Status VerifyQubeLockdown(int netns_fd, const std::string& qube);

Result<DropCounters> ReadDropCounters(int netns_fd);

// Packets that matched each rule ("rule N" comments) of a client's chains
// (both families) in the netvm that enforces it, by rule number.
Result<std::map<int, uint64_t>> ReadRuleHits(int netns_fd, uint32_t client_id);

}  // namespace qnet::chain
