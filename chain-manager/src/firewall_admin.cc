// `qnet firewall QUBE ...`: the qube's rule list lives in qnetd's state
// (the plan's client entry at its netvm, and the chain spec that `save`
// writes); every change is applied by the netvm's agent before the call
// returns. ExpireDue drops rules whose time has passed.
#include <nlohmann/json.hpp>

#include "daemon.h"
#include "qnet/base/log.h"
#include "qnet/config/chain_file.h"
#include "qnet/firewall/agent_section.h"
#include "qnet/firewall/config_key.h"
#include "qnet/firewall/rule_parser.h"

namespace qnet::chain {

using std::chrono::seconds;

namespace {

// The error names the rule as given and the field (contract 9).
Result<firewall::Rule> ParseGiven(const std::string& text, int64_t now) {
  auto r = firewall::ParseRule(text, now);
  if (!r) return Fail(r.error().Wrap(fmt::format("rule '{}'", text)));
  return r;
}

// One row per operation: what it does to the list (before anything is sent).
using EditFn = Status (*)(firewall::RuleList&, const FirewallRequest&, int64_t);
struct EditRow {
  const char* op;
  EditFn edit;  // nullptr: no change (list)
  bool apply;   // send the list to the agent
};

Status EditAdd(firewall::RuleList& l, const FirewallRequest& r, int64_t now) {
  if (r.rules.empty()) return Fail(Errc::kInvalidArgument, "add: give at least one RULE");
  std::vector<firewall::Rule> parsed;
  for (const std::string& t : r.rules) {
    QNET_ASSIGN_OR_RETURN(firewall::Rule rule, ParseGiven(t, now));
    parsed.push_back(std::move(rule));
  }
  firewall::RuleList next = l;
  std::optional<size_t> before = r.before;
  for (firewall::Rule& rule : parsed) {
    QNET_TRY(next.Add(std::move(rule), before));
    if (before) ++*before;
  }
  l = std::move(next);
  return OkStatus();
}

Status EditDel(firewall::RuleList& l, const FirewallRequest& r, int64_t now) {
  if (r.rules.size() != 1) return Fail(Errc::kInvalidArgument, "del: give one rule number or RULE");
  const std::string& arg = r.rules[0];
  // A rule never starts with a digit (its action comes first), so a number
  // is a rule number.
  if (!arg.empty() && arg[0] >= '0' && arg[0] <= '9') {
    QNET_ASSIGN_OR_RETURN(size_t number, firewall::ParseRuleNumber(arg));
    return l.Remove(number);
  }
  QNET_ASSIGN_OR_RETURN(firewall::Rule rule, ParseGiven(arg, now));
  return l.Remove(rule);
}

Status EditReset(firewall::RuleList& l, const FirewallRequest&, int64_t) {
  l.Reset();
  return OkStatus();
}

// The whole list at once (`set FILE`): every rule valid or nothing changes;
// no rules at all is the explicit empty list (everything dropped).
Status EditSet(firewall::RuleList& l, const FirewallRequest& r, int64_t now) {
  QNET_ASSIGN_OR_RETURN(l, firewall::RuleList::Parse(r.rules, now));
  return OkStatus();
}

constexpr EditRow kEdits[] = {
    {"list", nullptr, false}, {"add", EditAdd, true},     {"del", EditDel, true},
    {"set", EditSet, true},   {"reset", EditReset, true}, {"apply", nullptr, true},
};

// A rule in the rule language's own field names, for scripts: numbers as
// numbers, null for what the rule leaves unset (dsthost holds dst4/dst6
// networks and host names alike; dstports the port or range as written in
// rules, "443" or "8000-8080"; expire the unix time).
nlohmann::json RuleJson(const firewall::Rule& r) {
  using nlohmann::json;
  json o;
  o["action"] = std::string(firewall::ActionName(r.action));
  o["dsthost"] = nullptr;
  if (r.dst) {
    if (const auto* p = std::get_if<IpPrefix>(&*r.dst))
      o["dsthost"] = p->ToString();
    else
      o["dsthost"] = std::get<firewall::Hostname>(*r.dst).name;
  }
  o["proto"] = r.proto ? json(std::string(firewall::ProtoName(*r.proto))) : json(nullptr);
  o["dstports"] = nullptr;
  if (r.dstports)
    o["dstports"] = r.dstports->lo == r.dstports->hi
                        ? fmt::format("{}", r.dstports->lo)
                        : fmt::format("{}-{}", r.dstports->lo, r.dstports->hi);
  o["icmptype"] = r.icmptype ? json(*r.icmptype) : json(nullptr);
  o["specialtarget"] = r.specialtarget ? json("dns") : json(nullptr);
  o["expire"] = r.expire ? json(*r.expire) : json(nullptr);
  o["comment"] = r.comment ? json(*r.comment) : json(nullptr);
  return o;
}

// `list --json`: {"rules": [{"number", the rule's fields, "hits"}...],
// "error", "notes"}; hits are the packets each rule matched as the netvm's
// kernel counted them (null when they could not be read).
std::string ListJson(const firewall::RuleList& list,
                     const std::optional<std::map<int, uint64_t>>& hits,
                     const nlohmann::json& state) {
  nlohmann::json rows = nlohmann::json::array();
  int n = 0;
  for (const firewall::Rule& rule : list.Effective()) {
    nlohmann::json o = RuleJson(rule);
    o["number"] = n;
    o["hits"] =
        hits ? nlohmann::json(hits->contains(n) ? hits->at(n) : 0) : nlohmann::json(nullptr);
    rows.push_back(o);
    ++n;
  }
  return nlohmann::json{{"rules", rows},
                        {"error", state.value("error", nlohmann::json())},
                        {"notes", state.value("notes", nlohmann::json::array())}}
             .dump() +
         "\n";
}

// `list --raw`: one canonical rule per line, as `qvm-firewall --raw` prints
// them (the default list prints its rule, `action=accept`).
std::string ListRaw(const firewall::RuleList& list) {
  std::string out;
  for (const firewall::Rule& rule : list.Effective()) out += firewall::FormatRule(rule) + "\n";
  return out;
}

std::string ListTable(const firewall::RuleList& list, int64_t now,
                      const std::optional<std::map<int, uint64_t>>& hits,
                      const nlohmann::json& state) {
  std::vector<std::vector<std::string>> rows;
  const firewall::ListRow header = firewall::ListHeader();
  rows.emplace_back(header.begin(), header.end());
  rows.back().push_back("HITS");
  int n = 0;
  for (const firewall::ListRow& row : firewall::ListRows(list, now)) {
    rows.emplace_back(row.begin(), row.end());
    rows.back().push_back(hits ? std::to_string(hits->contains(n) ? hits->at(n) : 0) : "-");
    ++n;
  }
  std::string out = firewall::RenderTable(rows) + firewall::ListFooter(list);
  if (state.contains("notes") && state["notes"].is_array())
    for (const auto& note : state["notes"])
      if (note.is_string()) out += "note: " + note.get<std::string>() + "\n";
  if (state.contains("error") && state["error"].is_string())
    out += "error: " + state["error"].get<std::string>() + " (the qube is in drop-all)\n";
  return out;
}

}  // namespace

Result<Daemon::FirewallTarget> Daemon::FirewallTargetLocked(const std::string& qube) {
  if (!plan_ || !spec_) return Fail(Errc::kNotFound, "no chain is up");
  const QubePlan* q = plan_->Find(qube);
  if (!q) return Fail(Errc::kNotFound, fmt::format("qube '{}' is not in the chain", qube));
  if (!q->spec.netvm)
    return Fail(Errc::kFailedPrecondition,
                fmt::format("qube '{}' has no netvm: nothing enforces its rules", qube));
  for (QubePlan& nq : plan_->qubes)
    if (nq.spec.name == *q->spec.netvm)
      if (const qube::Client* c = nq.agent.FindClient(qube)) return FirewallTarget{&nq, c};
  return Fail(Errc::kInternal, fmt::format("qube '{}': not planned at its netvm", qube));
}

firewall::RuleList Daemon::FirewallTarget::rules() const {
  auto it = netvm->firewall.find(client->name);
  return it != netvm->firewall.end() ? it->second : firewall::RuleList();
}

Status Daemon::PushFirewallLocked(const FirewallTarget& t, const firewall::RuleList& next) {
  const std::string& netvm = t.netvm->spec.name;
  const std::string& client = t.client->name;
  auto it = qubes_.find(netvm);
  if (it == qubes_.end())
    return Fail(Errc::kUnavailable,
                fmt::format("netvm '{}' of '{}' is not running", netvm, client));
  QNET_ASSIGN_OR_RETURN(
      auto r,
      it->second->Call("qnet.Firewall", firewall::ToJson(firewall::FirewallUpdate{client, next}),
                       kCallTimeout));
  // kDropAll: the kernel refused the list; the agent keeps it with the
  // qube in drop-all (so does qnetd: `apply` retries it).
  using qube::AgentReply;
  const auto reply = static_cast<AgentReply>(r.exit_code);
  if (reply == AgentReply::kApplied || reply == AgentReply::kDropAll) {
    t.netvm->firewall[client] = next;
    t.netvm->SyncSections();
    QNET_TRY(StoreFirewallLocked(client, next));
  }
  if (reply != AgentReply::kApplied)
    return Fail(Errc::kFailedPrecondition,
                fmt::format("firewall {} (at {}): {}", client, netvm, FailureText(r)));
  return OkStatus();
}

Result<std::string> Daemon::Firewall(const FirewallRequest& req) {
  const EditRow* row = nullptr;
  for (const EditRow& e : kEdits)
    if (req.op == e.op) row = &e;
  if (!row)
    return Fail(Errc::kInvalidArgument, fmt::format("firewall: unknown operation '{}'", req.op));
  std::lock_guard lock(mu_);
  QNET_ASSIGN_OR_RETURN(const FirewallTarget target, FirewallTargetLocked(req.qube));
  const std::string& netvm = target.netvm->spec.name;
  const int64_t now = clock_.UnixNow();
  // Expired rules leave the list (the kernel stopped matching them already).
  firewall::RuleList next = target.rules();
  bool expired = next.RemoveExpired(now) > 0;
  if (row->edit) QNET_TRY(row->edit(next, req, now));
  if (row->apply || expired) QNET_TRY(PushFirewallLocked(target, next));
  if (req.op != "list") {
    const size_t n = next.Effective().size();
    if (n == 0) return fmt::format("firewall {}: no rules: everything is dropped\n", req.qube);
    return fmt::format("firewall {}: {} rules in force\n", req.qube, n);
  }
  if (req.raw) return ListRaw(next);
  std::optional<std::map<int, uint64_t>> hits;
  nlohmann::json state = nlohmann::json::object();
  if (auto it = qubes_.find(netvm); it != qubes_.end()) {
    auto h = it->second->ReadRuleHits(target.client->id);
    if (h) hits = std::move(*h);
    auto st = it->second->Call("qnet.FirewallState", req.qube, seconds(10));
    if (st && st->exit_code == 0) {
      state = nlohmann::json::parse(st->stdout_data, nullptr, false);
      if (!state.is_object()) state = nlohmann::json::object();
    }
  }
  return req.json ? ListJson(next, hits, state) : ListTable(next, now, hits, state);
}

void Daemon::ExpireDue() {
  std::unique_lock lock(mu_, std::try_to_lock);  // busy (an `up`, say): next tick
  if (!lock || !plan_ || !spec_) return;
  std::vector<std::pair<std::string, firewall::RuleList>> lists;
  std::map<std::string, FirewallTarget> targets;
  for (QubePlan& nq : plan_->qubes) {
    for (const qube::Client& c : nq.agent.clients) {
      const FirewallTarget target{&nq, &c};
      lists.emplace_back(c.name, target.rules());
      targets.emplace(c.name, target);
    }
  }
  for (const firewall::ExpirySchedule::Due& due : expiry_.Collect(lists)) {
    Status s = PushFirewallLocked(targets.at(due.qube), due.next);
    expiry_.Pushed(due.qube, s.ok());
    if (!s) {
      spdlog::warn("firewall {}: expired rules not yet removed, retry in {} s: {}", due.qube,
                   firewall::ExpirySchedule::kRetrySeconds, s.error().message());
      continue;
    }
    spdlog::info("firewall {}: {} expired rules removed", due.qube, due.removed);
  }
}

Status Daemon::StoreFirewallLocked(const std::string& qube, const firewall::RuleList& list) {
  for (config::QubeSpec& qs : spec_->qubes) {
    if (qs.name != qube) continue;
    std::erase_if(qs.extra, [](const config::Value::Member& m) { return m.key == "firewall"; });
    if (!list.is_default())
      qs.extra.push_back({.key = "firewall", .value = firewall::RuleListToValue(list)});
  }
  spec_text_ = config::FormatChainFile(*spec_);
  return SaveStateLocked();
}

}  // namespace qnet::chain
