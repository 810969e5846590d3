// DNS wire format for the lab's DNS server: a bounds-checked parser for
// queries and a builder for responses (RFC 1035). Pure functions over bytes,
// no sockets; every malformed input gives an Error, never an assert.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qnet/base/result.h"

namespace qnet::lab {

inline constexpr size_t kDnsHeaderSize = 12;
inline constexpr size_t kMaxLabelLength = 63;
inline constexpr size_t kMaxNameWireLength = 255;
inline constexpr size_t kMaxUdpResponse = 512;

enum DnsType : uint16_t {
  kTypeA = 1,
  kTypeCname = 5,
  kTypeAaaa = 28,
  kTypeOpt = 41,
  kTypeAny = 255,
};
inline constexpr uint16_t kClassIn = 1;

enum DnsRcode : uint8_t {
  kRcodeNoError = 0,
  kRcodeFormErr = 1,
  kRcodeServFail = 2,
  kRcodeNxDomain = 3,
  kRcodeNotImp = 4,
  kRcodeRefused = 5,
};
inline constexpr uint8_t kOpcodeQuery = 0;

struct DnsHeader {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;

  bool qr() const { return (flags & 0x8000) != 0; }
  uint8_t opcode() const { return (flags >> 11) & 0xF; }
  bool rd() const { return (flags & 0x0100) != 0; }
};

// A domain name as its labels, in wire order, without the root label.
// Labels keep their bytes and case as received.
using DnsName = std::vector<std::string>;

// Presentation form, lowercase not applied: labels joined by '.', with '.',
// '\\' and bytes outside printable ASCII (and space) escaped as \DDD or \c.
// The root name is ".".
std::string NameToText(const DnsName& name);
// The key the record set is indexed by: ASCII-lowercased NameToText without
// a trailing dot.
std::string NameKey(const DnsName& name);
// Parses "web.lab" or "web.lab." into labels; errors on empty labels, labels
// over 63 bytes or names over 255 bytes on the wire. No escapes accepted.
Result<DnsName> NameFromText(std::string_view text);

struct DnsQuestion {
  DnsName name;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
};

struct DnsQuery {
  DnsHeader header;
  DnsQuestion question;
};

// Reads the 12-byte header; kProtocol if the message is shorter.
Result<DnsHeader> ParseHeader(std::span<const uint8_t> msg);

// Reads a name at *offset, following compression pointers. Each pointer must
// point strictly before the pointer itself, which rules out loops; labels are
// at most 63 bytes, the name at most 255. On success *offset is just past the
// name as it appears at the original position.
Result<DnsName> ParseName(std::span<const uint8_t> msg, size_t* offset);

// Parses a query: header plus exactly one question. Fails (kProtocol) when the
// message is truncated, QR is set, QDCOUNT != 1, or the name is malformed.
// Records after the question (an EDNS OPT, say) are not examined.
Result<DnsQuery> ParseQuery(std::span<const uint8_t> msg);

struct DnsRecord {
  DnsName name;
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;  // already in wire form (CNAME: uncompressed name)
};

struct DnsResponse {
  uint16_t id = 0;
  uint8_t opcode = kOpcodeQuery;
  bool rd = false;
  bool aa = true;
  uint8_t rcode = kRcodeNoError;
  std::optional<DnsQuestion> question;  // echoed when the query had a readable one
  std::vector<DnsRecord> answers;
};

// Encodes a name without compression.
std::vector<uint8_t> EncodeName(const DnsName& name);

// Encodes a response (QR=1, RA=0, names uncompressed). When the result would
// exceed max_size, the answers are dropped and TC is set instead.
std::vector<uint8_t> BuildResponse(const DnsResponse& response, size_t max_size = 65535);

// Mnemonic for a query type ("A", "AAAA", "CNAME", ...) or "TYPE<n>".
std::string TypeName(uint16_t qtype);

}  // namespace qnet::lab
