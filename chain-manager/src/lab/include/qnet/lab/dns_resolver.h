// The lab DNS server's answering logic: query bytes in, reply bytes out,
// against a RecordSet. Pure; the server adds only sockets and the log.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "qnet/lab/dns_message.h"
#include "qnet/lab/dns_records.h"

namespace qnet::lab {

// Answers a parsed query authoritatively (AA=1, RA=0, question echoed):
// NXDOMAIN for an unknown name, NOERROR with no answers for a known name
// without records of that type, CNAMEs followed inside the set (at most 8),
// REFUSED for a class other than IN or ANY.
DnsResponse Resolve(const DnsQuery& query, const RecordSet& records);

// The outcome of one received message.
struct DnsExchange {
  std::string qname = "-";  // presentation form for the query log, "-" if unreadable
  std::string qtype = "-";
  std::vector<uint8_t> reply;  // empty: send nothing
};

// Handles one message: no reply to fragments shorter than a header or to
// responses (QR set); REFUSED for opcodes other than QUERY; FORMERR for a
// malformed query; otherwise Resolve. A reply longer than max_reply is cut to
// the question with TC set.
DnsExchange AnswerMessage(std::span<const uint8_t> msg, const RecordSet& records, size_t max_reply);

}  // namespace qnet::lab
