// The netns backend's teardown (behind QubeBackend::CleanupInstance, Remove
// and RemoveStorage): an instance down to nothing, every namespace it
// recorded, every process inside them, its runtime directory and its state.
// Works with or without a live qnetd, and is safe to run twice.
#pragma once

#include <vector>

#include "qnet/chain/backend.h"  // CleanupReport
#include "qnet/chain/instance.h"

namespace qnet::chain {

// Kills every process in each recorded namespace (SIGKILL), unpins the
// namespaces, then removes the runtime directory and the state file.
// keep_daemon_files: qnetd calling this keeps its own lock and socket
// until it exits.
CleanupReport CleanupInstance(const Instance& inst, bool keep_daemon_files);

// Kills and unpins one namespace of the instance ("<instance>-<name>").
Status RemoveNamespace(const Instance& inst, const std::string& name, int* killed);

// `qnet remove QUBE`: deletes the qube's persistent home and frees its host
// id range. Refused (kFailedPrecondition) while the qube runs, kNotFound if
// it has no storage.
Status RemoveQubeStorage(const Instance& inst, const std::string& qube);

}  // namespace qnet::chain
