// The lab DNS server's records file and the in-memory set it loads into.
//
// File format, one record per line, '#' starts a comment:
//   NAME TYPE VALUE [TTL]
// TYPE is A, AAAA or CNAME (any case); VALUE an address of that family or,
// for CNAME, a name; TTL seconds (default 60, at most 2^31-1). Names are
// matched case-insensitively and a trailing dot is ignored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/lab/dns_message.h"

namespace qnet::lab {

inline constexpr uint32_t kDefaultTtl = 60;
inline constexpr uint32_t kMaxTtl = 0x7FFFFFFF;

struct RecordEntry {
  uint16_t type = 0;  // kTypeA, kTypeAaaa or kTypeCname
  uint32_t ttl = kDefaultTtl;
  std::vector<uint8_t> rdata;  // wire form
  DnsName target;              // CNAME only
};

// Records by lowercase name (NameKey). A value type; not thread-safe.
class RecordSet {
 public:
  // All records of a name, or nullptr when the name is unknown.
  const std::vector<RecordEntry>* Find(std::string_view key) const;
  size_t name_count() const { return by_name_.size(); }
  // Adds a record; fails when it conflicts with a CNAME (RFC 1034 3.6.2).
  Status Add(const DnsName& name, RecordEntry entry);

 private:
  std::unordered_map<std::string, std::vector<RecordEntry>> by_name_;
};

// Parses records text. On the first bad line, fails with kInvalidArgument and
// a message "FILE:LINE: reason" (file_name is used only in the message).
Result<RecordSet> ParseRecords(std::string_view text, std::string_view file_name);

// Reads and parses a records file; a read error names the path.
Result<RecordSet> LoadRecords(const std::string& path);

}  // namespace qnet::lab
