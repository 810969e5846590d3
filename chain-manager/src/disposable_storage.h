// A disposable's files: its state directory is marked when it is created,
// so that whoever tears the instance down (qnetd, or `qnet down --all`
// without a qnetd) discards it with its home and id range. A named
// disposable's storage is discarded at `down` and again before `up`.
#pragma once

#include <string>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/chain/instance.h"

namespace qnet::chain {

// Creates the qube's state directory and the marker in it.
Status MarkDisposable(const Instance& inst, const std::string& qube);

// Whether the qube's state directory carries the marker.
bool IsMarkedDisposable(const Instance& inst, const std::string& qube);

// Deletes the qube's home, state directory and id range (RemoveQubeStorage)
// if it has any. OK when there is none. Refused while it runs.
Status DiscardQubeStorage(const Instance& inst, const std::string& qube);

// Discards the storage of every marked qube that is not running; returns
// the errors (empty: all gone).
std::vector<std::string> DiscardDisposableStorage(const Instance& inst);

}  // namespace qnet::chain
