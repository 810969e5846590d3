// The DNS server's query log: one line per received message, appended and
// written with a single write(2) so it is on disk (in the page cache) before
// the reply goes out, and lines from concurrent writers never interleave:
//   <unix time ms> <source address> <udp|tcp> <qname> <qtype>
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"

namespace qnet::lab {

// The line for one query (with the trailing newline). qname must already be
// in presentation form (NameToText escapes spaces and control bytes).
std::string FormatQueryLogLine(int64_t unix_ms, std::string_view source, std::string_view proto,
                               std::string_view qname, std::string_view qtype);

// Owns the log file descriptor. Movable, not copyable; not thread-safe.
class QueryLog {
 public:
  // Opens (creating, mode 0644) path for appending; the error names the path.
  static Result<QueryLog> Open(const std::string& path);

  QueryLog(QueryLog&&) = default;
  QueryLog& operator=(QueryLog&&) = default;
  QueryLog(const QueryLog&) = delete;
  QueryLog& operator=(const QueryLog&) = delete;

  // Appends one line stamped with the current time.
  Status Append(std::string_view source, std::string_view proto, std::string_view qname,
                std::string_view qtype);

 private:
  QueryLog(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

}  // namespace qnet::lab
