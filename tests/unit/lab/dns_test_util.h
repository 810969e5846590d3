// Builds query bytes and reads response bytes for the lab DNS tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qnet/lab/dns_message.h"

namespace qnet::lab::testing {

// A query with one question; flags default to RD.
inline std::vector<uint8_t> MakeQuery(uint16_t id, const std::string& name, uint16_t qtype,
                                      uint16_t flags = 0x0100, uint16_t qclass = kClassIn) {
  std::vector<uint8_t> q = {static_cast<uint8_t>(id >> 8),
                            static_cast<uint8_t>(id),
                            static_cast<uint8_t>(flags >> 8),
                            static_cast<uint8_t>(flags),
                            0,
                            1,
                            0,
                            0,
                            0,
                            0,
                            0,
                            0};
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<uint8_t>(dot - start));
    q.insert(q.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  q.push_back(0);
  q.push_back(static_cast<uint8_t>(qtype >> 8));
  q.push_back(static_cast<uint8_t>(qtype));
  q.push_back(static_cast<uint8_t>(qclass >> 8));
  q.push_back(static_cast<uint8_t>(qclass));
  return q;
}

struct DecodedAnswer {
  std::string name;
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;
};

struct DecodedResponse {
  DnsHeader header;
  bool has_question = false;
  DnsQuestion question;
  std::vector<DecodedAnswer> answers;
  bool ok = false;  // false: the bytes did not decode

  uint8_t rcode() const { return header.flags & 0xF; }
  bool aa() const { return (header.flags & 0x0400) != 0; }
  bool ra() const { return (header.flags & 0x0080) != 0; }
  bool tc() const { return (header.flags & 0x0200) != 0; }
};

inline uint16_t U16At(const std::vector<uint8_t>& m, size_t at) {
  return static_cast<uint16_t>((m[at] << 8) | m[at + 1]);
}

inline DecodedResponse Decode(const std::vector<uint8_t>& m) {
  DecodedResponse r;
  auto h = ParseHeader(m);
  if (!h) return r;
  r.header = *h;
  size_t off = kDnsHeaderSize;
  if (h->qdcount == 1) {
    auto name = ParseName(m, &off);
    if (!name || off + 4 > m.size()) return r;
    r.has_question = true;
    r.question = {*name, U16At(m, off), U16At(m, off + 2)};
    off += 4;
  }
  for (int i = 0; i < h->ancount; ++i) {
    auto name = ParseName(m, &off);
    if (!name || off + 10 > m.size()) return r;
    DecodedAnswer a;
    a.name = NameToText(*name);
    a.type = U16At(m, off);
    a.ttl = (static_cast<uint32_t>(U16At(m, off + 4)) << 16) | U16At(m, off + 6);
    uint16_t len = U16At(m, off + 8);
    off += 10;
    if (off + len > m.size()) return r;
    a.rdata.assign(m.begin() + static_cast<long>(off), m.begin() + static_cast<long>(off + len));
    off += len;
    r.answers.push_back(std::move(a));
  }
  r.ok = off == m.size();
  return r;
}

}  // namespace qnet::lab::testing
