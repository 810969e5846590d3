// Parsing Qubes firewall rules from text, as `qvm-firewall` and qubesd
// accept them.
//
// Two forms, freely mixed, separated by spaces:
//   positional  ACTION [DSTHOST [PROTO [DSTPORTS|ICMPTYPE]]]
//   keyword     action= dsthost= dst4= dst6= proto= dstports= icmptype=
//               specialtarget=dns expire= comment=
// A positional value fills the first field of that order not yet given
// (by either form); after proto=tcp|udp the next one is DSTPORTS, after
// proto=icmp it is ICMPTYPE. `comment=` takes the rest of the line, spaces
// included. `expire=+N` means N seconds after `now`.
//
// Validation follows Qubes' dom0 (qubes/firewall.py), a little stricter
// where Qubes accepts what can never work: values limited to Qubes' safe
// character set (letters, digits and `:;,./-_[]`; the comment also allows
// spaces), ports 0-65535 with lo <= hi, icmptype 0-255, proto tcp|udp|icmp,
// dstports only with tcp/udp, icmptype only with icmp, dst4 an IPv4 and
// dst6 an IPv6 address or network without host bits set
// ("203.0.113.10/24" is refused), dsthost either or an RFC 1123 hostname
// (lowercase letters, digits and `-`, labels of 1-63 characters that neither
// start nor end with `-`; not `accept` or `drop`; not a name resolvers read
// as an IPv4 address, such as `0xcb00710a`), a comment of at most 256
// characters, specialtarget only dns, every key at most once (dst4/dst6/dsthost count as
// one), unknown keys refused.
//
// Pure: the clock is the `now` argument (unix seconds). Thread-compatible.
#pragma once

#include <cstdint>
#include <string_view>

#include "qnet/base/result.h"
#include "qnet/firewall/rule.h"

namespace qnet::firewall {

// Parses one rule. On bad input returns Errc::kInvalidArgument with the
// message "FIELD: what is wrong", e.g.
//   "dstports: port 99999 out of range 0-65535"
//   "icmptype: valid only with proto=icmp"
//   "action: missing"
Result<Rule> ParseRule(std::string_view text, int64_t now);

// As ParseRule, the error message prefixed with the rule's number and its
// text (control characters shown as '?', long text shortened):
//   "rule 3 (accept dsthost=x proto=tcp dstports=99999): dstports: port
//    99999 out of range 0-65535"
// `number` is the rule's number as the list table shows it (from 0).
Result<Rule> ParseNumberedRule(int number, std::string_view text, int64_t now);

}  // namespace qnet::firewall
