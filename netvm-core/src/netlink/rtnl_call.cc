#include "rtnl_call.h"

#include <cerrno>
#include <optional>

namespace qnet::netlink::internal {

Status Call(Socket& sock, Request& req, const std::string& what, const ReplyHandler& on_reply) {
  req.set_seq(sock.NextSeq());
  std::optional<Error> first;
  Socket::MessageCallback cb;
  if (on_reply) {
    cb = [&](const nlmsghdr* nlh) {
      if (first) return MNL_CB_OK;
      Status s = on_reply(nlh);
      if (!s) first = s.error();
      return MNL_CB_OK;
    };
  }
  Status s = sock.Request(req.header(), what, cb);
  if (!s) return Fail(ClassifyNetlinkError(s.error()));
  if (first) return Fail(first->Wrap(what));
  return OkStatus();
}

}  // namespace qnet::netlink::internal
