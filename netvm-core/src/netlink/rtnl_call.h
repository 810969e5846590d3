// Private: the thin shell that sends one rtnetlink Request and collects the
// reply, shared by link.cc and route.cc.
#pragma once

#include <functional>
#include <string>

#include "qnet/netlink/rtnl_msg.h"
#include "qnet/netlink/socket.h"

namespace qnet::netlink::internal {

using ReplyHandler = std::function<Status(const nlmsghdr*)>;

// Sends req with a fresh sequence number and waits for its end: the ACK of a
// request (which must carry NLM_F_ACK) or the NLMSG_DONE of a dump. on_reply,
// if set, sees each reply message. A failure of on_reply does not stop the
// exchange (the socket must be drained to stay usable); the first one is
// returned, wrapped with `what`, once the kernel has finished answering.
// Kernel errors get their code from the errno (ClassifyNetlinkError) and
// `what` as context.
Status Call(Socket& sock, Request& req, const std::string& what,
            const ReplyHandler& on_reply = nullptr);

}  // namespace qnet::netlink::internal
