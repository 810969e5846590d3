// The checks a chain must pass whether it was parsed or built in code, and
// id assignment. Errors are worded as in chain_file.h.
#pragma once

#include <string_view>

#include "qnet/base/result.h"
#include "qnet/config/chain_spec.h"
#include "qnet/config/key_registry.h"

namespace qnet::config::internal {

// A chain name: like a qube name's characters, 1..63, starting with a
// letter or digit. Bare message, no position.
Status CheckChainName(std::string_view name);

// Role key `member` of qube q: registered, allowed for q's role, accepted by
// its validator. Errors at the key's position.
Status CheckRoleKey(const QubeSpec& q, const Value::Member& member, const KeyRegistry& registry);

// The known keys of a [qube.NAME] table, for "unknown key" messages.
std::string KnownQubeKeys(const KeyRegistry& registry);

// At least one qube; exactly one net qube, without netvm; every other qube
// has a netvm that exists and provides network; no cycle.
Status CheckTopology(const ChainSpec& spec);

// Ids unique (only the explicit ones when only_explicit; else every id,
// which must also be in the plan's range).
Status CheckIds(const ChainSpec& spec, bool only_explicit);

// Gives each qube without an explicit id the lowest free id, in file order.
Status AssignIds(ChainSpec& spec);

// Where an error about the chain as a whole goes: the file's start, or
// nowhere for a spec built in code.
SourcePos FileStart(const ChainSpec& spec);

}  // namespace qnet::config::internal
