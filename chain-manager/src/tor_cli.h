// `qnet tor QUBE status|circuits|newnym`: admin.Tor's JSON answers turned
// into text for people. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

#include "qnet/base/result.h"

namespace qnet::chain {

// "[#########...........]": `percent` (clamped to 0-100) of `width` cells.
std::string ProgressBar(int percent, int width = 20);

// The status object (gate, control, bootstrap, counters) as lines:
//   sys-whonix: bootstrap  50% [##########..........] loading_descriptors: ...
//   gate: closed (downstream TCP and DNS refused at once)
//   control port: ready
//   counters: refused 3, downstream dropped 0, forward dropped 5, uplink dropped 0
Result<std::string> FormatTorStatus(std::string_view json);
// The bootstrap percentage of a status object; -1 when tor reported none.
int TorStatusProgress(std::string_view json);

// One line per circuit: "12 BUILT GENERAL $FP~auth1,$FP~relay1,$FP~relay2".
Result<std::string> FormatTorCircuits(std::string_view json);

}  // namespace qnet::chain
