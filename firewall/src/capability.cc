#include "qnet/firewall/capability.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "qnet/base/log.h"
#include "qnet/firewall/install_batch.h"
#include "qnet/nft/base_table.h"

namespace qnet::firewall {
namespace {

// A name that did not resolve is tried again soon; it stays closed meanwhile.
constexpr std::chrono::seconds kRetryFailed{5};

bool UsesAny(const RuleList& list, const std::vector<std::string>& names) {
  for (const Rule& r : list.rules()) {
    if (!r.dst) continue;
    const auto* h = std::get_if<Hostname>(&*r.dst);
    if (h && std::find(names.begin(), names.end(), h->name) != names.end()) return true;
  }
  return false;
}

void LogNotes(const std::string& qube, const ClientRules& c) {
  for (const std::string& n : c.notes) spdlog::warn("qube {}: firewall {}: {}", qube, c.name, n);
}

qrexec::ServiceReply Reply(qube::AgentReply code, std::string out, std::string err = {}) {
  return {static_cast<int>(code), std::move(out), std::move(err)};
}

}  // namespace

Client FirewallClient(const qube::Client& c, const RuleList& rules, bool ipv6) {
  return {.name = c.name,
          .id = c.id,
          .ipv4 = c.addr4,
          .ipv6 = ipv6 ? c.addr6 : std::nullopt,
          .vif = c.vif,
          .rules = rules};
}

std::vector<Client> FirewallClients(const qube::AgentConfig& config, const ClientLists& lists) {
  static const RuleList kDefault;
  std::vector<Client> out;
  for (const qube::Client& c : config.clients) {
    auto it = lists.find(c.name);
    out.push_back(FirewallClient(c, it != lists.end() ? it->second : kDefault, config.ipv6));
  }
  return out;
}

std::vector<std::string> FirewallHostnames(const ClientLists& lists) {
  std::set<std::string> names;
  for (const auto& [client, list] : lists)
    for (const Rule& r : list.rules())
      if (r.dst)
        if (const auto* h = std::get_if<Hostname>(&*r.dst)) names.insert(h->name);
  return {names.begin(), names.end()};
}

FirewallCapability::FirewallCapability(std::string qube, nft::Committer& nft, Resolver resolve,
                                       const Clock& clock, std::chrono::seconds refresh_floor)
    : qube_(std::move(qube)),
      nft_(nft),
      resolve_(std::move(resolve)),
      clock_(clock),
      refresh_floor_(refresh_floor) {}

const RuleList& FirewallCapability::ListOf(const std::string& client) const {
  static const RuleList kDefault;
  auto it = lists_.find(client);
  return it != lists_.end() ? it->second : kDefault;
}

void FirewallCapability::ResolveNames(const ClientLists& lists, bool only_new) {
  const auto now = clock_.SteadyNow();
  for (const std::string& name : FirewallHostnames(lists)) {
    if (only_new && names_.count(name)) continue;
    ResolveOne(name, now);
  }
}

void FirewallCapability::ResolveOne(const std::string& name,
                                    std::chrono::steady_clock::time_point now) {
  Resolution r = resolve_(name, config_ ? config_->ipv6 : false);
  if (r.ok) {
    std::chrono::seconds ttl = kMaxRefresh;
    for (const auto& a : r.addresses) ttl = std::min(ttl, a.ttl);
    refresh_at_[name] = now + RefreshInterval(ttl, refresh_floor_);
  } else {
    spdlog::warn("qube {}: firewall: {} does not resolve: {}", qube_, name, r.error);
    refresh_at_[name] = now + kRetryFailed;
  }
  names_[name] = std::move(r);
}

Result<nft::Batch> FirewallCapability::Install(const qube::AgentConfig& config) {
  ClientLists lists;
  if (auto it = config.sections.find(std::string(kCapabilityName)); it != config.sections.end()) {
    QNET_ASSIGN_OR_RETURN(lists, ClientListsFromJson(it->second, clock_.UnixNow()));
  }
  for (const auto& [client, list] : lists)
    if (!config.FindClient(client))
      return Fail(
          Errc::kInvalidArgument,
          fmt::format("sections.firewall.clients.{}: not a client of {}", client, config.qube));
  QNET_ASSIGN_OR_RETURN(CompiledFirewall fw,
                        Compile(FirewallClients(config, lists), names_, clock_.UnixNow()));
  for (const ClientRules& cr : fw.clients) LogNotes(config.qube, cr);
  pending_lists_ = std::move(lists);
  return FirewallInstallBatch(std::move(fw), installed_, &pending_installed_);
}

Result<nft::Batch> FirewallCapability::InstallClosed(const qube::AgentConfig& config) {
  CompiledFirewall drop = CompileShared();
  for (const Client& cl : FirewallClients(config, pending_lists_)) {
    QNET_ASSIGN_OR_RETURN(ClientRules d, CompileDropAll(cl));
    drop.clients.push_back(std::move(d));
  }
  return FirewallInstallBatch(std::move(drop), {}, &pending_installed_);
}

void FirewallCapability::Installed(const qube::AgentConfig& config, bool closed) {
  config_ = config;
  lists_ = std::move(pending_lists_);
  pending_lists_.clear();
  std::map<uint32_t, ClientRules> now_held = std::move(pending_installed_);
  pending_installed_.clear();
  errors_.clear();
  if (!closed) {
    installed_ = std::move(now_held);
    return;
  }
  // The drop-all deleted nothing: objects of earlier lists stay known, and
  // go with a later change.
  for (auto& [id, d] : now_held)
    if (auto it = installed_.find(id); it != installed_.end()) d = MergeInstalled(it->second, d);
  for (auto& [id, old] : installed_) now_held.try_emplace(id, std::move(old));
  installed_ = std::move(now_held);
  spdlog::error("qube {}: firewall: clients in drop-all, now one by one", qube_);
  for (const qube::Client& cl : config_->clients) (void)ApplyClient(cl, ListOf(cl.name));
}

FirewallCapability::ApplyResult FirewallCapability::ApplyClient(const qube::Client& client,
                                                                const RuleList& rules) {
  using qube::AgentReply;
  const Client fc = FirewallClient(client, rules, config_->ipv6);
  auto compiled = CompileClient(fc, names_, clock_.UnixNow());
  if (!compiled) return {AgentReply::kRefused, Status(compiled.error())};
  ClientRules after = std::move(*compiled);
  LogNotes(qube_, after);
  const ClientRules before = installed_.count(client.id) ? installed_[client.id] : ClientRules{};
  ClientRules kept = InstalledObjects(after);
  nft::Batch b = FirewallClientBatch(before, std::move(after));
  Status s = b.status() ? nft_.Commit(b) : b.status();
  if (s) {
    installed_[client.id] = std::move(kept);
    errors_.erase(client.id);
    return {};
  }
  const std::string why = s.error().message();
  spdlog::error("qube {}: firewall {}: {}; client in drop-all", qube_, client.name, why);
  // Never open on failure: the fallback deletes nothing and touches no set,
  // so what made the list fail is not in it.
  auto drop = CompileDropAll(fc);
  Status d = drop ? Status() : Status(drop.error());
  if (drop) {
    nft::Batch db = FirewallDropAllBatch(before, *drop);
    d = db.status() ? nft_.Commit(db) : db.status();
  }
  if (!d) {
    spdlog::critical("qube {}: firewall {}: drop-all refused too ({}); its previous rules stay",
                     qube_, client.name, d.error().message());
    errors_[client.id] = fmt::format("{}; drop-all refused too: {}", why, d.error().message());
    return {
        AgentReply::kFailed,
        Fail(s.error().Wrap(fmt::format("{} keeps its previous rules: drop-all refused too ({})",
                                        client.name, d.error().message())))};
  }
  installed_[client.id] = MergeInstalled(before, *drop);
  errors_[client.id] = why;
  return {AgentReply::kDropAll,
          Fail(s.error().Wrap(fmt::format("{} is in drop-all", client.name)))};
}

void FirewallCapability::Adopt(const qube::AgentConfig& config, const nft::TableState& table) {
  config_ = config;
  lists_.clear();
  if (auto it = config.sections.find(std::string(kCapabilityName)); it != config.sections.end())
    if (auto lists = ClientListsFromJson(it->second, clock_.UnixNow()); lists)
      lists_ = std::move(*lists);
  // Only what the kernel really holds, and all of it: deleting an absent
  // object would fail the next change; forgetting one would leave it there.
  installed_.clear();
  for (const Client& fc : FirewallClients(config, lists_))
    installed_[fc.id] = AdoptClientObjects(table, fc);
}

FirewallCapability::ApplyResult FirewallCapability::Replace(const std::string& client,
                                                            const RuleList& rules) {
  using qube::AgentReply;
  const qube::Client* c = config_ ? config_->FindClient(client) : nullptr;
  if (!c)
    return {
        AgentReply::kRefused,
        Fail(Errc::kNotFound, fmt::format("firewall: {} is not a client of {}", client, qube_))};
  // New names resolve now, so the change is in force when the call returns.
  ResolveNames(ClientLists{{client, rules}}, /*only_new=*/true);
  ApplyResult r = ApplyClient(*c, rules);
  // Kept when the kernel holds drop-all for it: `apply` or a name refresh
  // retries. Refused, or still on the old list: not kept.
  if (r.outcome == AgentReply::kApplied || r.outcome == AgentReply::kDropAll)
    lists_[client] = rules;
  return r;
}

std::optional<std::string> FirewallCapability::ClientError(const std::string& client) const {
  const qube::Client* c = config_ ? config_->FindClient(client) : nullptr;
  if (!c) return std::nullopt;
  auto it = errors_.find(c->id);
  if (it == errors_.end()) return std::nullopt;
  return it->second;
}

qrexec::ServiceReply FirewallCapability::FirewallCall(qrexec::ServiceRequest& req) {
  using qube::AgentReply;
  if (!config_) return Reply(AgentReply::kRefused, {}, "firewall: not configured\n");
  auto u = FirewallUpdateFromJson(req.input, clock_.UnixNow());
  if (!u) return Reply(AgentReply::kRefused, {}, u.error().message() + "\n");
  const ApplyResult r = Replace(u->client, u->rules);
  if (r.outcome != AgentReply::kApplied)
    return Reply(r.outcome, {}, r.status.error().message() + "\n");
  std::string notes;
  if (const qube::Client* c = config_->FindClient(u->client))
    for (const std::string& n : installed_[c->id].notes) notes += n + "\n";
  return Reply(AgentReply::kApplied, "applied\n" + notes);
}

qrexec::ServiceReply FirewallCapability::FirewallStateCall(qrexec::ServiceRequest& req) {
  const qube::Client* client = config_ ? config_->FindClient(req.input) : nullptr;
  if (!client)
    return Reply(qube::AgentReply::kRefused, {},
                 fmt::format("firewall: {} is not a client of {}\n", req.input, qube_));
  nlohmann::json j = {
      {"client", client->name}, {"notes", nlohmann::json::array()}, {"error", nullptr}};
  if (auto it = installed_.find(client->id); it != installed_.end()) j["notes"] = it->second.notes;
  if (auto it = errors_.find(client->id); it != errors_.end()) j["error"] = it->second;
  return Reply(qube::AgentReply::kApplied, j.dump() + "\n");
}

std::vector<qrexec::ServiceEntry> FirewallCapability::Services() {
  using Req = qrexec::ServiceRequest;
  return {{"qnet.Firewall", [this](Req& r) { return FirewallCall(r); }},
          {"qnet.FirewallState", [this](Req& r) { return FirewallStateCall(r); }}};
}

void FirewallCapability::Tick() { RefreshDueNames(); }

std::optional<std::string> FirewallCapability::Section() const { return ClientListsToJson(lists_); }

void FirewallCapability::RefreshDueNames() {
  if (!config_) return;
  const auto now = clock_.SteadyNow();
  std::vector<std::string> due;
  for (const std::string& name : FirewallHostnames(lists_)) {
    auto it = refresh_at_.find(name);
    if (it == refresh_at_.end() || it->second <= now) due.push_back(name);
  }
  if (due.empty()) return;
  const Resolutions before = names_;
  for (const std::string& name : due) ResolveOne(name, now);
  // Usually only addresses change: the rules compile the same with the old
  // and the new answers, and refilling the sets is enough.
  std::vector<ClientRules> sets_only;
  std::vector<const qube::Client*> sets_only_clients;  // parallel to sets_only
  std::vector<const qube::Client*> reapply;
  const int64_t at = clock_.UnixNow();
  for (const qube::Client& c : config_->clients) {
    const RuleList& list = ListOf(c.name);
    if (!UsesAny(list, due)) continue;
    const Client fc = FirewallClient(c, list, config_->ipv6);
    auto old_rules = CompileClient(fc, before, at);
    auto new_rules = CompileClient(fc, names_, at);
    const bool same = old_rules && new_rules && old_rules->rules == new_rules->rules &&
                      installed_.count(c.id) && !errors_.count(c.id);
    if (same) {
      sets_only.push_back(std::move(*new_rules));
      sets_only_clients.push_back(&c);
    } else {
      reapply.push_back(&c);
    }
  }
  if (!sets_only.empty()) {
    nft::Batch b = FirewallSetsBatch(sets_only);
    Status s = b.status() ? nft_.Commit(b) : b.status();
    if (s) {
      for (const ClientRules& cr : sets_only) installed_[cr.id].notes = cr.notes;
    } else {
      spdlog::warn("qube {}: firewall: host sets refresh refused ({}); reapplying", qube_,
                   s.error().message());
      reapply.insert(reapply.end(), sets_only_clients.begin(), sets_only_clients.end());
    }
  }
  for (const qube::Client* c : reapply) (void)ApplyClient(*c, ListOf(c->name));
}

}  // namespace qnet::firewall
