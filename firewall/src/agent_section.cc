#include "qnet/firewall/agent_section.h"

#include <nlohmann/json.hpp>

namespace qnet::firewall {
namespace {

using nlohmann::json;

// null: the default list (accept); [] an explicit empty list (drop all).
json RulesJson(const RuleList& rules) {
  if (rules.is_default()) return nullptr;
  json out = json::array();
  for (const std::string& r : rules.Format()) out.push_back(r);
  return out;
}

// Rules are canonical texts; each is parsed and validated again here.
Result<RuleList> ReadRules(const json& a, const std::string& path, const std::string& client,
                           int64_t now) {
  if (a.is_null()) return RuleList();
  if (!a.is_array())
    return Fail(Errc::kInvalidArgument,
                fmt::format("{} (client {}): expected an array", path, client));
  std::vector<std::string> lines;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string())
      return Fail(Errc::kInvalidArgument,
                  fmt::format("{}[{}] (client {}): expected a string", path, i, client));
    lines.push_back(a[i].get<std::string>());
  }
  auto list = RuleList::Parse(lines, now);
  if (!list) return Fail(list.error().Wrap(fmt::format("client {}: firewall", client)));
  return list;
}

}  // namespace

std::string ClientListsToJson(const ClientLists& lists) {
  json clients = json::object();
  for (const auto& [name, rules] : lists) clients[name] = RulesJson(rules);
  return json{{"clients", clients}}.dump();
}

Result<ClientLists> ClientListsFromJson(std::string_view text, int64_t now) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Fail(Errc::kInvalidArgument, "sections.firewall: not a JSON object");
  ClientLists out;
  if (!j.contains("clients")) return out;
  if (!j["clients"].is_object())
    return Fail(Errc::kInvalidArgument, "sections.firewall.clients: expected an object");
  for (const auto& [name, rules] : j["clients"].items()) {
    QNET_ASSIGN_OR_RETURN(
        out[name], ReadRules(rules, fmt::format("sections.firewall.clients.{}", name), name, now));
  }
  return out;
}

std::string ToJson(const FirewallUpdate& u) {
  return json{{"client", u.client}, {"rules", RulesJson(u.rules)}}.dump();
}

Result<FirewallUpdate> FirewallUpdateFromJson(std::string_view text, int64_t now) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Fail(Errc::kInvalidArgument, "firewall: not a JSON object");
  FirewallUpdate u;
  if (!j.contains("client") || !j["client"].is_string())
    return Fail(Errc::kInvalidArgument, "firewall.client: expected a string");
  u.client = j["client"].get<std::string>();
  QNET_ASSIGN_OR_RETURN(u.rules,
                        ReadRules(j.value("rules", json()), "firewall.rules", u.client, now));
  return u;
}

Status CheckListForNetvm(qube::Role netvm_role, std::string_view netvm, const RuleList& list) {
  if (netvm_role == qube::Role::kTor && !list.IsDefaultAccept())
    return Fail(Errc::kInvalidArgument,
                fmt::format("a tor gateway ({}) carries only Tor: its clients accept only the "
                            "default firewall list [\"accept\"]",
                            netvm));
  return OkStatus();
}

}  // namespace qnet::firewall
