// The chain file's per-qube key `firewall`: the qube's rules, a TOML array
// of strings, one rule each, in order (rule_parser.h for the language):
//
//   [qube.anon-ws]
//   firewall = ["accept dsthost=web.lab proto=tcp dstports=80", "drop"]
//
// An absent key or an empty array is the default list (accept). The
// composition root registers FirewallKeyRule() in its config::KeyRegistry;
// the chain parser then calls ValidateFirewallKey for every qube that has
// the key. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "qnet/base/result.h"
#include "qnet/config/key_registry.h"
#include "qnet/config/value.h"
#include "qnet/firewall/rule_list.h"

namespace qnet::firewall {

inline constexpr std::string_view kFirewallKey = "firewall";

// Checks that `value` is an array of strings that each parse as a rule.
// kInvalidArgument otherwise, the message naming the offending element's
// position (when known), its number and text, and the field:
//   line 12 col 5: rule 1 (drop proto=tcp dstports=99999): dstports: port
//   99999 out of range 0-65535
//   line 12 col 30: rule 2: expected a string, got integer
//   expected an array of rule strings, got string
// The config parser prefixes "<file:line:col>: qube.NAME.firewall: ".
// Relative expiry (expire=+N) is checked for syntax only here.
Status ValidateFirewallKey(const config::Value& value, const config::SourcePos& key_pos);

// The rules of a validated `firewall` value; `now` (unix seconds) anchors
// expire=+N. Errors as ValidateFirewallKey.
Result<RuleList> RuleListFromValue(const config::Value& value, int64_t now);

// The value that `qnet save` writes back: one canonical rule text per
// element (FormatRule). RuleListFromValue(RuleListToValue(l), t) == l.
config::Value RuleListToValue(const RuleList& list);

// The registry row: key `firewall`, allowed on any qube with a netvm (its
// netvm enforces the rules), validated by ValidateFirewallKey. Whether that
// netvm can enforce the list (a Tor gateway accepts only the default) is
// checked where the chain's topology is known (RuleList::IsDefaultAccept).
config::KeyRule FirewallKeyRule();

}  // namespace qnet::firewall
