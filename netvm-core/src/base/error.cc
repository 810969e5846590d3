#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "qnet/base/result.h"

namespace qnet {

const char* ErrcName(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
      return "invalid argument";
    case Errc::kNotFound:
      return "not found";
    case Errc::kAlreadyExists:
      return "already exists";
    case Errc::kPermissionDenied:
      return "permission denied";
    case Errc::kIo:
      return "i/o error";
    case Errc::kNetlink:
      return "netlink error";
    case Errc::kProtocol:
      return "protocol error";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kUnavailable:
      return "unavailable";
    case Errc::kFailedPrecondition:
      return "failed precondition";
    case Errc::kInternal:
      return "internal error";
  }
  return "unknown";
}

Error ErrnoError(std::string_view what, int sys_errno) {
  Errc code = Errc::kIo;
  if (sys_errno == ENOENT) code = Errc::kNotFound;
  if (sys_errno == EEXIST) code = Errc::kAlreadyExists;
  if (sys_errno == EPERM || sys_errno == EACCES) code = Errc::kPermissionDenied;
  return Error(code, fmt::format("{}: {}", what, std::strerror(sys_errno)), sys_errno);
}

namespace internal {

void BadResultAccess(const char* accessor, const Error* held) {
  if (held != nullptr) {
    std::fprintf(stderr, "qnet: %s called on a result holding an error: %s\n", accessor,
                 held->message().c_str());
  } else {
    std::fprintf(stderr, "qnet: %s called on a result holding a value\n", accessor);
  }
  std::abort();
}

}  // namespace internal

}  // namespace qnet
