// Checks a table read back from the kernel (readback.h) against the
// lockdown every qube's table must hold (base_table.h). Pure.
#pragma once

#include "qnet/base/result.h"
#include "qnet/nft/readback.h"

namespace qnet::nft {

// True when state holds the lockdown of contracts 1 and 4
// (docs/security-contract.md): filter base chains input, forward and output
// exist on their hooks with policy drop,
// each ends in the rule `counter name "drop-<hook>" drop`, holds before it
// only its fixed rules (BaseChainRules) and jumps into capability chains of
// its hook (nothing that accepts early), and those named counters exist. The error
// (kFailedPrecondition) lists every problem, e.g. "lockdown of inet qnet incomplete: chain forward
// missing; chain output policy is accept, want drop".
Status VerifyLockdown(const TableState& state);

}  // namespace qnet::nft
