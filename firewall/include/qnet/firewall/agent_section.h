// The firewall's part of the qnetd<->agent protocol (qube/agent_config.h):
// the client lists qnet.Configure carries in the "firewall" section, the
// one list qnet.Firewall replaces, and which lists a netvm can enforce.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "qnet/base/result.h"
#include "qnet/firewall/rule_list.h"
#include "qnet/qube/role.h"

namespace qnet::firewall {

// The capability's name: its chains' prefix and its section's key.
inline constexpr std::string_view kCapabilityName = "firewall";

// Each client's list by client name (a client absent: the default list).
using ClientLists = std::map<std::string, RuleList>;

// {"clients": {"work": ["accept", ...]}}: canonical rule texts (FormatRule).
std::string ClientListsToJson(const ClientLists& lists);
// Every rule is parsed and validated again (`now` resolves relative
// expiries); the error names the client and the rule (bad input changes
// nothing).
Result<ClientLists> ClientListsFromJson(std::string_view text, int64_t now);

// qnet.Firewall's input: one client's new rule list.
struct FirewallUpdate {
  std::string client;
  RuleList rules;
};
std::string ToJson(const FirewallUpdate& u);
// Errors as ClientListsFromJson.
Result<FirewallUpdate> FirewallUpdateFromJson(std::string_view text, int64_t now);

// Whether a netvm of `netvm_role` (named `netvm`) can enforce `list` for a
// client: a tor gateway forwards nothing, so there is nothing a rule could
// allow or deny, and its clients take only the default list. Checked by
// qnetd before anything exists and by the gateway's agent on every change.
// Error (kInvalidArgument): "a tor gateway (NETVM) carries only Tor: its
// clients accept only the default firewall list [\"accept\"]".
Status CheckListForNetvm(qube::Role netvm_role, std::string_view netvm, const RuleList& list);

}  // namespace qnet::firewall
