// The netns backend (backend.h): a qube is a set of Linux namespaces with
// `qnet-agent init` as PID 1 (QubeProcess, qube_runtime.h), torn down by
// cleanup.h.
#pragma once

#include <memory>

#include "qnet/chain/backend.h"
#include "qnet/chain/instance.h"

namespace qnet::chain {

std::unique_ptr<QubeBackend> NewNetnsBackend(const Instance& inst);

}  // namespace qnet::chain
