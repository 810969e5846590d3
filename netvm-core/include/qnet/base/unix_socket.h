// Unix stream sockets by path: the admin socket, agents' reconnect sockets.
#pragma once

#include <sys/types.h>

#include <string>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"

namespace qnet {

// Binds and listens at path (replacing a stale socket file) with the given
// mode, set through the umask so no other user can connect even briefly.
Result<UniqueFd> ListenUnix(const std::string& path, mode_t mode = 0600, int backlog = 16);
// Connects to path; kNotFound/kIo with the path in the message.
Result<UniqueFd> ConnectUnix(const std::string& path);

}  // namespace qnet
