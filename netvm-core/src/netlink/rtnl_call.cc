#include "rtnl_call.h"

#include <cerrno>
#include <optional>

namespace qnet::netlink::internal {

Error Classify(Error e) {
  if (e.code() != Errc::kNetlink) return e;
  switch (e.sys_errno()) {
    case ENODEV:
    case ENOENT:
    case ESRCH:
      return Error(Errc::kNotFound, e.message(), e.sys_errno());
    case EEXIST:
      return Error(Errc::kAlreadyExists, e.message(), e.sys_errno());
    case EPERM:
    case EACCES:
      return Error(Errc::kPermissionDenied, e.message(), e.sys_errno());
    default:
      return e;
  }
}

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
  if (!s) return Fail(Classify(s.error()));
  if (first) return Fail(first->Wrap(what));
  return OkStatus();
}

}  // namespace qnet::netlink::internal
