// The chain file's role keys, gathered from the role modules: the one place
// chain-manager connects config (core) with firewall, vpn and tor.
#pragma once

#include "qnet/config/key_registry.h"

namespace qnet::chain {

config::KeyRegistry BuildKeyRegistry();

}  // namespace qnet::chain
