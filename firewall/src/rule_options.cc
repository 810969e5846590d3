#include "rule_options.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <limits>

namespace qnet::firewall::internal {
namespace {

Unexpected<Error> Invalid(std::string message) {
  return Fail(Errc::kInvalidArgument, std::move(message));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// Digits only; a number too large for uint64 saturates, so that callers can
// report "out of range" rather than "not a number".
std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (!AllDigits(s)) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) return std::numeric_limits<uint64_t>::max();
  return v;
}

std::string Printable(char c) {
  if (c >= 0x20 && c < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
}

Status ParseAction(std::string_view value, const ParseContext&, Rule& rule) {
  if (value == "accept") {
    rule.action = Action::kAccept;
  } else if (value == "drop") {
    rule.action = Action::kDrop;
  } else {
    return Invalid(fmt::format("'{}' is not accept or drop", value));
  }
  return OkStatus();
}

Status ParseProto(std::string_view value, const ParseContext&, Rule& rule) {
  if (value == "tcp") {
    rule.proto = Proto::kTcp;
  } else if (value == "udp") {
    rule.proto = Proto::kUdp;
  } else if (value == "icmp") {
    rule.proto = Proto::kIcmp;
  } else {
    return Invalid(fmt::format("'{}' is not tcp, udp or icmp", value));
  }
  return OkStatus();
}

Result<IpPrefix> ParseNetwork(std::string_view value) {
  size_t slash = value.find('/');
  std::string_view host = value.substr(0, slash);
  auto addr = IpAddr::Parse(host);
  if (!addr) return Invalid(fmt::format("'{}' is not an IP address", host));
  int max = addr->is_v4() ? 32 : 128;
  if (slash == std::string_view::npos) return IpPrefix(*addr, max);
  std::string_view len_text = value.substr(slash + 1);
  auto len = ParseDecimal(len_text);
  if (!len) return Invalid(fmt::format("prefix length '{}' is not a number", len_text));
  if (*len > static_cast<uint64_t>(max)) {
    return Invalid(fmt::format("prefix length {} out of range 0-{} for {}", len_text, max,
                               addr->is_v4() ? "IPv4" : "IPv6"));
  }
  return IpPrefix(*addr, static_cast<int>(*len));
}

// A value that can only be meant as an address: hostnames never hold ':' or
// '/', and an all-numeric dotted name is a mistyped IPv4 address.
bool LooksLikeAddress(std::string_view value) {
  if (value.find_first_of(":/") != std::string_view::npos) return true;
  for (char c : value) {
    if (!IsDigit(c) && c != '.') return false;
  }
  return true;
}

enum class Family : uint8_t { kAny, kV4, kV6 };

Status ParseDst(std::string_view value, Family family, Rule& rule) {
  if (value.empty()) return Invalid("empty value");
  if (family == Family::kAny && !LooksLikeAddress(value)) {
    QNET_TRY(CheckHostname(value));
    rule.dst = Hostname{std::string(value)};
    return OkStatus();
  }
  QNET_ASSIGN_OR_RETURN(IpPrefix prefix, ParseNetwork(value));
  if (family == Family::kV4 && !prefix.addr().is_v4()) {
    return Invalid(fmt::format("'{}' is not an IPv4 address or network", value));
  }
  if (family == Family::kV6 && !prefix.addr().is_v6()) {
    return Invalid(fmt::format("'{}' is not an IPv6 address or network", value));
  }
  QNET_TRY(CheckNoHostBits(prefix));
  rule.dst = prefix;
  return OkStatus();
}

Status ParseDstHost(std::string_view value, const ParseContext&, Rule& rule) {
  return ParseDst(value, Family::kAny, rule);
}
Status ParseDst4(std::string_view value, const ParseContext&, Rule& rule) {
  return ParseDst(value, Family::kV4, rule);
}
Status ParseDst6(std::string_view value, const ParseContext&, Rule& rule) {
  return ParseDst(value, Family::kV6, rule);
}

Result<uint16_t> ParsePort(std::string_view text, std::string_view whole) {
  auto port = ParseDecimal(text);
  if (!port) {
    return Invalid(fmt::format("'{}' is not a port or port range (443 or 8000-8080)", whole));
  }
  if (*port > 65535) return Invalid(fmt::format("port {} out of range 0-65535", text));
  return static_cast<uint16_t>(*port);
}

Status ParseDstPorts(std::string_view value, const ParseContext&, Rule& rule) {
  size_t dash = value.find('-');
  PortRange range;
  QNET_ASSIGN_OR_RETURN(range.lo, ParsePort(value.substr(0, dash), value));
  range.hi = range.lo;
  if (dash != std::string_view::npos) {
    QNET_ASSIGN_OR_RETURN(range.hi, ParsePort(value.substr(dash + 1), value));
  }
  if (range.lo > range.hi) {
    return Invalid(fmt::format("range {}: first port above last", value));
  }
  rule.dstports = range;
  return OkStatus();
}

Status ParseIcmpType(std::string_view value, const ParseContext&, Rule& rule) {
  auto type = ParseDecimal(value);
  if (!type) return Invalid(fmt::format("'{}' is not a number", value));
  if (*type > 255) return Invalid(fmt::format("type {} out of range 0-255", value));
  rule.icmptype = static_cast<uint8_t>(*type);
  return OkStatus();
}

Status ParseSpecialTarget(std::string_view value, const ParseContext&, Rule& rule) {
  if (value != "dns") return Invalid(fmt::format("'{}' is not supported (only dns)", value));
  rule.specialtarget = SpecialTarget::kDns;
  return OkStatus();
}

Status ParseExpire(std::string_view value, const ParseContext& ctx, Rule& rule) {
  bool relative = !value.empty() && value.front() == '+';
  std::string_view digits = relative ? value.substr(1) : value;
  QNET_TRY(CheckSafeChars(digits));
  auto n = ParseDecimal(digits);
  if (!n) return Invalid(fmt::format("'{}' is not a unix time or +SECONDS", value));
  uint64_t base = relative && ctx.now > 0 ? static_cast<uint64_t>(ctx.now) : 0;
  if (*n > static_cast<uint64_t>(kMaxExpire) || base + *n > static_cast<uint64_t>(kMaxExpire)) {
    return Invalid(fmt::format("'{}' is after the year 9999", value));
  }
  rule.expire = static_cast<int64_t>(base + *n);
  return OkStatus();
}

Status ParseComment(std::string_view value, const ParseContext&, Rule& rule) {
  QNET_TRY(CheckComment(value));
  if (value.empty()) {
    rule.comment.reset();
  } else {
    rule.comment = std::string(value);
  }
  return OkStatus();
}

std::string PortsText(const PortRange& r) {
  return r.lo == r.hi ? fmt::format("{}", r.lo) : fmt::format("{}-{}", r.lo, r.hi);
}

std::string DstText(const Destination& d) {
  if (const auto* prefix = std::get_if<IpPrefix>(&d)) return prefix->ToString();
  return std::get<Hostname>(d).name;
}

std::string DstKey(const Destination& d) {
  if (const auto* prefix = std::get_if<IpPrefix>(&d)) {
    return prefix->addr().is_v4() ? "dst4" : "dst6";
  }
  return "dsthost";
}

// Keys whose values must pass the safe character set before their parser
// sees them; expire's '+' and the comment's spaces are checked by their own
// parsers.
constexpr std::array<KeyRow, 10> kKeys = {{
    {"action", Field::kAction, ParseAction},
    {"dsthost", Field::kDst, ParseDstHost},
    {"dst4", Field::kDst, ParseDst4},
    {"dst6", Field::kDst, ParseDst6},
    {"proto", Field::kProto, ParseProto},
    {"dstports", Field::kDstPorts, ParseDstPorts},
    {"icmptype", Field::kIcmpType, ParseIcmpType},
    {"specialtarget", Field::kSpecialTarget, ParseSpecialTarget},
    {"expire", Field::kExpire, ParseExpire},
    {"comment", Field::kComment, ParseComment},
}};

// Indexed by Field.
const std::array<FieldRow, kFieldCount> kFields = {{
    {Field::kAction, "action", "ACTION", [](const Rule&) { return true; },
     [](const Rule& r) { return fmt::format("action={}", ActionName(r.action)); },
     [](const Rule& r, int64_t) { return std::string(ActionName(r.action)); }},
    {Field::kDst, "dsthost", "HOST", [](const Rule& r) { return r.dst.has_value(); },
     [](const Rule& r) { return fmt::format("{}={}", DstKey(*r.dst), DstText(*r.dst)); },
     [](const Rule& r, int64_t) { return DstText(*r.dst); }},
    {Field::kProto, "proto", "PROTOCOL", [](const Rule& r) { return r.proto.has_value(); },
     [](const Rule& r) { return fmt::format("proto={}", ProtoName(*r.proto)); },
     [](const Rule& r, int64_t) { return std::string(ProtoName(*r.proto)); }},
    {Field::kDstPorts, "dstports", "PORT(S)", [](const Rule& r) { return r.dstports.has_value(); },
     [](const Rule& r) { return fmt::format("dstports={}-{}", r.dstports->lo, r.dstports->hi); },
     [](const Rule& r, int64_t) { return PortsText(*r.dstports); }},
    {Field::kIcmpType, "icmptype", "ICMP TYPE",
     [](const Rule& r) { return r.icmptype.has_value(); },
     [](const Rule& r) { return fmt::format("icmptype={}", *r.icmptype); },
     [](const Rule& r, int64_t) { return fmt::format("{}", *r.icmptype); }},
    {Field::kSpecialTarget, "specialtarget", "SPECIAL TARGET",
     [](const Rule& r) { return r.specialtarget.has_value(); },
     [](const Rule&) { return std::string("specialtarget=dns"); },
     [](const Rule&, int64_t) { return std::string("dns"); }},
    {Field::kExpire, "expire", "EXPIRE", [](const Rule& r) { return r.expire.has_value(); },
     [](const Rule& r) { return fmt::format("expire={}", *r.expire); },
     // Qubes shows the time left, signed: "+300s", "-5s".
     [](const Rule& r, int64_t now) {
       int64_t left = *r.expire - now;
       return left < 0 ? fmt::format("{}s", left) : fmt::format("+{}s", left);
     }},
    {Field::kComment, "comment", "COMMENT", [](const Rule& r) { return r.comment.has_value(); },
     [](const Rule& r) { return fmt::format("comment={}", *r.comment); },
     [](const Rule& r, int64_t) { return *r.comment; }},
}};

constexpr std::array<Field, kFieldCount> kKeywordOrder = {
    Field::kAction,   Field::kProto,         Field::kDst,    Field::kDstPorts,
    Field::kIcmpType, Field::kSpecialTarget, Field::kExpire, Field::kComment,
};

constexpr std::array<Field, kFieldCount> kColumnOrder = {
    Field::kAction,        Field::kDst,      Field::kProto,  Field::kDstPorts,
    Field::kSpecialTarget, Field::kIcmpType, Field::kExpire, Field::kComment,
};

}  // namespace

const KeyRow* FindKey(std::string_view key) {
  for (const KeyRow& row : kKeys) {
    if (row.key == key) return &row;
  }
  return nullptr;
}

std::string KnownKeys() {
  std::string out;
  for (const KeyRow& row : kKeys) {
    if (!out.empty()) out += ", ";
    out += row.key;
  }
  return out;
}

const FieldRow& FieldInfo(Field field) { return kFields[static_cast<size_t>(field)]; }
std::span<const Field> KeywordOrder() { return kKeywordOrder; }
std::span<const Field> ColumnOrder() { return kColumnOrder; }

Status CheckNoHostBits(const IpPrefix& prefix) {
  IpPrefix network = prefix.Network();
  if (network.addr() == prefix.addr()) return OkStatus();
  return Invalid(fmt::format("{} has host bits set (the network is {})", prefix.ToString(),
                             network.ToString()));
}

Status CheckSafeChars(std::string_view value) {
  for (char c : value) {
    if (IsLower(c) || IsUpper(c) || IsDigit(c)) continue;
    if (std::string_view(":;,./-_[]").find(c) != std::string_view::npos) continue;
    return Invalid(
        fmt::format("character {} not allowed (letters, digits and :;,./-_[] only)", Printable(c)));
  }
  return OkStatus();
}

Status CheckComment(std::string_view comment) {
  if (comment.size() > kMaxCommentLength) {
    return Invalid(
        fmt::format("{} characters, at most {} allowed", comment.size(), kMaxCommentLength));
  }
  for (char c : comment) {
    if (IsLower(c) || IsUpper(c) || IsDigit(c)) continue;
    if (std::string_view(":;,./-_[] ").find(c) != std::string_view::npos) continue;
    return Invalid(fmt::format(
        "character {} not allowed (letters, digits, spaces and :;,./-_[] only)", Printable(c)));
  }
  return OkStatus();
}

Status CheckHostname(std::string_view name) {
  for (char c : name) {
    if (IsLower(c) || IsDigit(c) || c == '-' || c == '.') continue;
    if (IsUpper(c)) return Invalid(fmt::format("hostname '{}' must be lowercase", name));
    return Invalid(fmt::format(
        "character {} not allowed in a hostname (RFC 1123: letters, digits, '-' and '.')",
        Printable(c)));
  }
  std::string_view rest = name;
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);  // a rooted name
  if (rest.empty() || rest.size() > 253) {
    return Invalid(fmt::format("'{}' is not a hostname (1-253 characters)", name));
  }
  size_t start = 0;
  while (start <= rest.size()) {
    size_t dot = rest.find('.', start);
    std::string_view label = rest.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63) {
      return Invalid(fmt::format("'{}' is not a hostname (labels of 1-63 characters)", name));
    }
    if (label.front() == '-' || label.back() == '-') {
      return Invalid(fmt::format(
          "'{}' is not a hostname (RFC 1123: a label starts and ends with a letter or digit)",
          name));
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // "accept accept" is a typo, never a host named "accept".
  if (rest == "accept" || rest == "drop") {
    return Invalid(fmt::format("'{}' is an action, not a hostname (one action per rule)", name));
  }
  // inet_aton (and so getaddrinfo) reads "0xcb00710a", "3405803786" or
  // "10.1" as IPv4 addresses: such a name would match an address nobody
  // wrote as one.
  in_addr numeric{};
  if (inet_aton(std::string(rest).c_str(), &numeric) != 0) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &numeric, text, sizeof text);
    return Invalid(fmt::format(
        "'{}' is not a hostname (resolvers read it as the IPv4 address {}: write dst4={})", name,
        text, text));
  }
  return OkStatus();
}

std::string Sanitize(std::string_view text, size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace qnet::firewall::internal
