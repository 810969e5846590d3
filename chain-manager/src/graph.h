// `qnet graph`: the chain as a Graphviz digraph (each qube a box in its
// label's colour, an edge from each client to its netvm, sys-net to the lab).
#pragma once

#include <string>

#include "qnet/chain/plan.h"

namespace qnet::chain {

// Pure: the same plan always renders the same text (qubes in plan order).
std::string RenderGraph(const Plan& plan);

}  // namespace qnet::chain
