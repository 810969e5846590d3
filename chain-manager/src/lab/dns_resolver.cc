#include "qnet/lab/dns_resolver.h"

namespace qnet::lab {
namespace {

// Bounds CNAME chains, including a chain that loops back on itself.
constexpr int kMaxCnameHops = 8;

void Chase(const DnsQuestion& q, const RecordSet& records, DnsResponse& r) {
  DnsName name = q.name;
  for (int hop = 0; hop <= kMaxCnameHops; ++hop) {
    const auto* entries = records.Find(NameKey(name));
    if (entries == nullptr) {
      r.rcode = kRcodeNxDomain;
      return;
    }
    const DnsName* next = nullptr;
    for (const auto& e : *entries) {
      if (e.type == q.qtype || q.qtype == kTypeAny) {
        r.answers.push_back({name, e.type, e.ttl, e.rdata});
      } else if (e.type == kTypeCname) {
        r.answers.push_back({name, e.type, e.ttl, e.rdata});
        next = &e.target;
      }
    }
    if (next == nullptr) return;
    name = *next;
  }
}

}  // namespace

DnsResponse Resolve(const DnsQuery& query, const RecordSet& records) {
  DnsResponse r;
  r.id = query.header.id;
  r.opcode = query.header.opcode();
  r.rd = query.header.rd();
  r.aa = true;
  r.question = query.question;
  if (query.question.qclass != kClassIn && query.question.qclass != kTypeAny) {
    r.rcode = kRcodeRefused;
    return r;
  }
  Chase(query.question, records, r);
  return r;
}

DnsExchange AnswerMessage(std::span<const uint8_t> msg, const RecordSet& records,
                          size_t max_reply) {
  DnsExchange ex;
  auto header = ParseHeader(msg);
  // Without a header there is no id to answer to; a response must never be
  // answered, or two servers could echo each other forever.
  if (!header || header->qr()) return ex;
  auto query = ParseQuery(msg);
  if (query) {
    ex.qname = NameToText(query->question.name);
    ex.qtype = TypeName(query->question.qtype);
  }
  DnsResponse r;
  if (header->opcode() != kOpcodeQuery) {
    r.id = header->id;
    r.opcode = header->opcode();
    r.rd = header->rd();
    r.rcode = kRcodeRefused;
    if (query) r.question = query->question;
  } else if (!query) {
    r.id = header->id;
    r.rd = header->rd();
    r.rcode = kRcodeFormErr;
  } else {
    r = Resolve(*query, records);
  }
  ex.reply = BuildResponse(r, max_reply);
  return ex;
}

}  // namespace qnet::lab
