#include "qnet/lab/dns_message.h"

#include <fmt/format.h>

#include <array>

namespace qnet::lab {
namespace {

// The 255-byte name limit already bounds pointer chains that make progress;
// this cap keeps the loop bounded in its own right.
constexpr int kMaxPointerHops = 128;

uint16_t ReadU16(std::span<const uint8_t> msg, size_t at) {
  return static_cast<uint16_t>((msg[at] << 8) | msg[at + 1]);
}

void PutU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xFF));
}

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v & 0xFFFF));
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

void AppendLabelText(std::string& out, const std::string& label) {
  for (char ch : label) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '.' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c > 0x20 && c < 0x7F) {
      out.push_back(ch);
    } else {
      // Spaces and control bytes would split or forge a query-log line.
      out += fmt::format("\\{:03d}", c);
    }
  }
}

std::vector<uint8_t> Encode(const DnsResponse& r, bool truncated) {
  std::vector<uint8_t> out;
  out.reserve(128);
  uint16_t flags = 0x8000;
  flags |= static_cast<uint16_t>((r.opcode & 0xF) << 11);
  if (r.aa) flags |= 0x0400;
  if (truncated) flags |= 0x0200;
  if (r.rd) flags |= 0x0100;
  flags |= r.rcode & 0xF;
  PutU16(out, r.id);
  PutU16(out, flags);
  PutU16(out, r.question ? 1 : 0);
  PutU16(out, truncated ? 0 : static_cast<uint16_t>(r.answers.size()));
  PutU16(out, 0);
  PutU16(out, 0);
  if (r.question) {
    auto name = EncodeName(r.question->name);
    out.insert(out.end(), name.begin(), name.end());
    PutU16(out, r.question->qtype);
    PutU16(out, r.question->qclass);
  }
  if (truncated) return out;
  for (const auto& rr : r.answers) {
    auto name = EncodeName(rr.name);
    out.insert(out.end(), name.begin(), name.end());
    PutU16(out, rr.type);
    PutU16(out, kClassIn);
    PutU32(out, rr.ttl);
    PutU16(out, static_cast<uint16_t>(rr.rdata.size()));
    out.insert(out.end(), rr.rdata.begin(), rr.rdata.end());
  }
  return out;
}

}  // namespace

std::string NameToText(const DnsName& name) {
  if (name.empty()) return ".";
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (i > 0) out.push_back('.');
    AppendLabelText(out, name[i]);
  }
  return out;
}

std::string NameKey(const DnsName& name) {
  if (name.empty()) return "";
  std::string out = NameToText(name);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

Result<DnsName> NameFromText(std::string_view text) {
  std::string_view rest = text;
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
  DnsName name;
  if (rest.empty()) return name;
  size_t wire_len = 1;
  while (true) {
    size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (label.empty())
      return Fail(Errc::kInvalidArgument, fmt::format("empty label in name '{}'", text));
    if (label.size() > kMaxLabelLength)
      return Fail(Errc::kInvalidArgument,
                  fmt::format("label longer than 63 bytes in name '{}'", text));
    for (char c : label) {
      auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7F || c == '\\')
        return Fail(Errc::kInvalidArgument, fmt::format("invalid character in name '{}'", text));
    }
    wire_len += label.size() + 1;
    if (wire_len > kMaxNameWireLength)
      return Fail(Errc::kInvalidArgument, fmt::format("name longer than 255 bytes: '{}'", text));
    name.emplace_back(label);
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return name;
}

Result<DnsHeader> ParseHeader(std::span<const uint8_t> msg) {
  if (msg.size() < kDnsHeaderSize)
    return Fail(Errc::kProtocol,
                fmt::format("message of {} bytes is shorter than a header", msg.size()));
  DnsHeader h;
  h.id = ReadU16(msg, 0);
  h.flags = ReadU16(msg, 2);
  h.qdcount = ReadU16(msg, 4);
  h.ancount = ReadU16(msg, 6);
  h.nscount = ReadU16(msg, 8);
  h.arcount = ReadU16(msg, 10);
  return h;
}

Result<DnsName> ParseName(std::span<const uint8_t> msg, size_t* offset) {
  DnsName name;
  size_t pos = *offset;
  size_t end = 0;  // where the caller continues; set at the first pointer or the root label
  bool jumped = false;
  size_t wire_len = 1;
  int hops = 0;
  while (true) {
    if (pos >= msg.size())
      return Fail(Errc::kProtocol, fmt::format("name truncated at offset {}", pos));
    uint8_t len = msg[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= msg.size())
        return Fail(Errc::kProtocol,
                    fmt::format("compression pointer truncated at offset {}", pos));
      size_t target = (static_cast<size_t>(len & 0x3F) << 8) | msg[pos + 1];
      if (target >= pos)
        return Fail(Errc::kProtocol,
                    fmt::format("compression pointer at offset {} to {} does not point backwards",
                                pos, target));
      if (++hops > kMaxPointerHops)
        return Fail(Errc::kProtocol, "too many compression pointers in name");
      if (!jumped) end = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if ((len & 0xC0) != 0)
      return Fail(Errc::kProtocol,
                  fmt::format("unsupported label type 0x{:02x} at offset {}", len, pos));
    if (len == 0) {
      if (!jumped) end = pos + 1;
      break;
    }
    if (pos + 1 + len > msg.size())
      return Fail(Errc::kProtocol, fmt::format("label truncated at offset {}", pos));
    wire_len += len + 1u;
    if (wire_len > kMaxNameWireLength) return Fail(Errc::kProtocol, "name longer than 255 bytes");
    name.emplace_back(reinterpret_cast<const char*>(msg.data() + pos + 1), len);
    pos += 1 + len;
  }
  *offset = end;
  return name;
}

Result<DnsQuery> ParseQuery(std::span<const uint8_t> msg) {
  DnsQuery q;
  QNET_ASSIGN_OR_RETURN(q.header, ParseHeader(msg));
  if (q.header.qr()) return Fail(Errc::kProtocol, "message is a response (QR set)");
  if (q.header.qdcount != 1)
    return Fail(Errc::kProtocol, fmt::format("QDCOUNT is {}, want 1", q.header.qdcount));
  size_t offset = kDnsHeaderSize;
  auto name = ParseName(msg, &offset);
  if (!name) return Fail(std::move(name).error().Wrap("question"));
  q.question.name = std::move(*name);
  if (offset + 4 > msg.size()) return Fail(Errc::kProtocol, "question truncated after name");
  q.question.qtype = ReadU16(msg, offset);
  q.question.qclass = ReadU16(msg, offset + 2);
  return q;
}

std::vector<uint8_t> EncodeName(const DnsName& name) {
  std::vector<uint8_t> out;
  for (const auto& label : name) {
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.push_back(0);
  return out;
}

std::vector<uint8_t> BuildResponse(const DnsResponse& response, size_t max_size) {
  auto out = Encode(response, false);
  if (out.size() > max_size) out = Encode(response, true);
  return out;
}

std::string TypeName(uint16_t qtype) {
  struct Entry {
    uint16_t type;
    const char* name;
  };
  static constexpr std::array<Entry, 12> kNames{{{1, "A"},
                                                 {2, "NS"},
                                                 {5, "CNAME"},
                                                 {6, "SOA"},
                                                 {12, "PTR"},
                                                 {15, "MX"},
                                                 {16, "TXT"},
                                                 {28, "AAAA"},
                                                 {33, "SRV"},
                                                 {41, "OPT"},
                                                 {65, "HTTPS"},
                                                 {255, "ANY"}}};
  for (const auto& e : kNames)
    if (e.type == qtype) return e.name;
  return fmt::format("TYPE{}", qtype);
}

}  // namespace qnet::lab
