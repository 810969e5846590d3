// The vpn role on qnetd's side: each vpn qube's section of the agent config
// from its chain-file keys `wireguard` and `backend`.
#pragma once

#include "qnet/base/result.h"
#include "qnet/chain/plan.h"
#include "qnet/config/chain_spec.h"

namespace qnet::chain {

// Reads each vpn qube's wg-quick file (a path relative to the chain file's
// directory, or absolute), validates it and puts it with the backend into
// the qube's agent config (vpn::VpnSection). Errors name the chain file's
// position of the key and the wg-quick file's line; nothing is changed then.
// `wireguard = "lab"` is refused until the lab runtime serves WireGuard.
Status AttachVpnSections(Plan& plan, const config::ChainSpec& spec);

}  // namespace qnet::chain
