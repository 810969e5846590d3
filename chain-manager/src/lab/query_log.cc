#include "qnet/lab/query_log.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <chrono>

namespace qnet::lab {

std::string FormatQueryLogLine(int64_t unix_ms, std::string_view source, std::string_view proto,
                               std::string_view qname, std::string_view qtype) {
  return fmt::format("{} {} {} {} {}\n", unix_ms, source, proto, qname, qtype);
}

Result<QueryLog> QueryLog::Open(const std::string& path) {
  QNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenFd(path, O_WRONLY | O_CREAT | O_APPEND, 0644));
  return QueryLog(std::move(fd), path);
}

Status QueryLog::Append(std::string_view source, std::string_view proto, std::string_view qname,
                        std::string_view qtype) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  Status s = WriteAll(fd_.get(), FormatQueryLogLine(ms, source, proto, qname, qtype));
  if (!s) return Fail(s.error().Wrap(path_));
  return OkStatus();
}

}  // namespace qnet::lab
