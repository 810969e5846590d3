// The CLI's side of qnetd's socket: connect (starting qnetd when asked),
// and call an admin service.
#pragma once

#include <string>
#include <vector>

#include "qnet/chain/instance.h"
#include "qnet/qrexec/service.h"

namespace qnet::chain {

// Connects to the instance's qnetd. start_if_needed: start qnetd (from the
// same directory as this program) when it is not running, and wait for it.
Result<qrexec::Channel> ConnectDaemon(const Instance& inst, bool start_if_needed);

// One admin call; long_running: no timeout (exec).
Result<qrexec::CallResult> AdminCall(qrexec::Channel& ch, const std::string& service,
                                     const std::string& input, const std::vector<int>& fds = {},
                                     bool long_running = false);

}  // namespace qnet::chain
