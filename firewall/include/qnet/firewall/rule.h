// One Qubes firewall rule as a value: what it matches and what it does.
//
// The language is Qubes' (qubes-core-admin qubes/firewall.py): an action,
// optionally a destination (an IPv4/IPv6 network or a hostname), a protocol,
// a destination port range (tcp/udp only), an ICMP type (icmp only), the
// special target `dns`, an expiry time and a comment. Parsing lives in
// rule_parser.h; this header holds the value and its canonical text.
//
// Pure values: no I/O, no clock (callers pass `now`), thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"

namespace qnet::firewall {

enum class Action : uint8_t { kAccept, kDrop };
enum class Proto : uint8_t { kTcp, kUdp, kIcmp };
enum class SpecialTarget : uint8_t { kDns };

// Inclusive destination port range; lo <= hi.
struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 0;
  bool operator==(const PortRange&) const = default;
};

// A destination hostname, lowercase, resolved by the enforcing netvm.
struct Hostname {
  std::string name;
  bool operator==(const Hostname&) const = default;
};

// A destination: an IPv4/IPv6 network or a hostname. `dst4=`, `dst6=` and
// `dsthost=` all set it; the text form picks the key from the value (dst4=
// for an IPv4 network, dst6= for IPv6, dsthost= for a name), as Qubes does.
using Destination = std::variant<IpPrefix, Hostname>;

// A rule. Build one with ParseRule (rule_parser.h), or by hand and then
// check it with Validate. Fields left empty match anything.
struct Rule {
  Action action = Action::kAccept;
  // An IpPrefix never has host bits set (Validate refuses it).
  std::optional<Destination> dst;
  std::optional<Proto> proto;
  std::optional<PortRange> dstports;           // only with proto tcp/udp
  std::optional<uint8_t> icmptype;             // only with proto icmp
  std::optional<SpecialTarget> specialtarget;  // only dns
  std::optional<int64_t> expire;               // absolute unix time, seconds
  std::optional<std::string> comment;          // Qubes' comment character set

  bool operator==(const Rule&) const = default;
};

// Names used in text and tables.
std::string_view ActionName(Action a);  // "accept" | "drop"
std::string_view ProtoName(Proto p);    // "tcp" | "udp" | "icmp"

// True when the destination is an IPv6 network (`proto=icmp` then means
// ICMPv6, as Qubes maps it).
bool IsIpv6Destination(const Rule& rule);

// True once the rule's expiry time has passed (expire <= now). A rule with
// no expiry never expires.
bool IsExpired(const Rule& rule, int64_t now);

// Checks the cross-field and value constraints ParseRule enforces: port
// range order, dstports only with tcp/udp, icmptype only with icmp, the
// hostname (RFC 1123) and comment character sets, the comment's length, a
// network without host bits, a non-negative expiry. Errors name
// the field: "dstports: valid only with proto=tcp or proto=udp".
Status Validate(const Rule& rule);

// The canonical keyword form, as `qvm-firewall --raw` prints it: keys in the
// order action proto dst4|dst6|dsthost dstports icmptype specialtarget
// expire comment; ports always as lo-hi ("dstports=443-443"); networks with
// their prefix length ("dst4=10.0.0.1/32"); the comment last, verbatim.
// ParseRule(FormatRule(r)) == r for every valid rule.
std::string FormatRule(const Rule& rule);

}  // namespace qnet::firewall
