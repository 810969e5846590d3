// The firewall capability's side of the agent: compiling and applying the
// clients' rules, qnet.Firewall, and the hostname refresh.
#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "agent.h"
#include "firewall_apply.h"
#include "qnet/base/log.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/readback.h"
#include "qnet/nft/transaction.h"
#include "resolver.h"
#include "rules.h"

namespace qnet::agent {
namespace {

// A name that did not resolve is tried again soon; it stays closed meanwhile.
constexpr std::chrono::seconds kRetryFailed{5};

int64_t Now() { return std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count(); }

bool UsesAny(const Client& c, const std::vector<std::string>& names) {
  for (const firewall::Rule& r : c.rules.rules()) {
    if (!r.dst) continue;
    const auto* h = std::get_if<firewall::Hostname>(&*r.dst);
    if (h && std::find(names.begin(), names.end(), h->name) != names.end()) return true;
  }
  return false;
}

bool Enforces(const AgentConfig& c) {
  const auto caps = CapabilitiesForRole(c.role);
  return std::find(caps.begin(), caps.end(), "firewall") != caps.end();
}

void LogNotes(const std::string& qube, const firewall::ClientRules& c) {
  for (const std::string& n : c.notes) spdlog::warn("qube {}: firewall {}: {}", qube, c.name, n);
}

}  // namespace

void Agent::ResolveNames(const AgentConfig& c, bool only_new) {
  const auto now = std::chrono::steady_clock::now();
  for (const std::string& name : FirewallHostnames(c)) {
    if (only_new && names_.count(name)) continue;
    ResolveOne(name, now);
  }
}

void Agent::ResolveOne(const std::string& name, std::chrono::steady_clock::time_point now) {
  firewall::Resolution r = ResolveName(name, config_ ? config_->ipv6 : false);
  if (r.ok) {
    std::chrono::seconds ttl = firewall::kMaxRefresh;
    for (const auto& a : r.addresses) ttl = std::min(ttl, a.ttl);
    const auto floor = opts_.refresh_floor_seconds > 0
                           ? std::chrono::seconds(opts_.refresh_floor_seconds)
                           : firewall::kMinRefresh;
    refresh_at_[name] = now + firewall::RefreshInterval(ttl, floor);
  } else {
    spdlog::warn("qube {}: firewall: {} does not resolve: {}", opts_.qube, name, r.error);
    refresh_at_[name] = now + kRetryFailed;
  }
  names_[name] = std::move(r);
}

Result<nft::Batch> Agent::FirewallBatch(const AgentConfig& c,
                                        std::map<uint32_t, firewall::ClientRules>* compiled) {
  compiled->clear();
  for (const Client& cl : c.clients) QNET_TRY(CheckRulesForRole(c.role, cl));
  if (!Enforces(c)) return nft::Batch();
  QNET_ASSIGN_OR_RETURN(firewall::CompiledFirewall fw,
                        firewall::Compile(FirewallClients(c), names_, Now()));
  for (const firewall::ClientRules& cr : fw.clients) LogNotes(c.qube, cr);
  return FirewallInstallBatch(std::move(fw), installed_, compiled);
}

Status Agent::InstallAll(const AgentConfig& c) {
  std::map<uint32_t, firewall::ClientRules> compiled;
  QNET_ASSIGN_OR_RETURN(nft::Batch fw, FirewallBatch(c, &compiled));
  Status s = InstallRoleRules(*nf_, c, fw);
  if (s) {
    installed_ = std::move(compiled);
    fw_errors_.clear();
    return s;
  }
  if (!Enforces(c)) return s;
  // Never open on failure: every client in drop-all first.
  spdlog::error("qube {}: rules failed to apply ({}); clients in drop-all, then one by one",
                c.qube, s.error().message());
  firewall::CompiledFirewall drop = firewall::CompileShared();
  for (const firewall::Client& cl : FirewallClients(c)) {
    QNET_ASSIGN_OR_RETURN(firewall::ClientRules d, firewall::CompileDropAll(cl));
    drop.clients.push_back(std::move(d));
  }
  // It deletes nothing (what failed may have been a deletion): objects of
  // earlier lists stay known, and go with a later change.
  std::map<uint32_t, firewall::ClientRules> dropping;
  if (!InstallRoleRules(*nf_, c, FirewallInstallBatch(std::move(drop), {}, &dropping))) return s;
  for (auto& [id, d] : dropping)
    if (auto it = installed_.find(id); it != installed_.end()) d = MergeInstalled(it->second, d);
  for (auto& [id, old] : installed_) dropping.try_emplace(id, std::move(old));
  installed_ = std::move(dropping);
  fw_errors_.clear();
  // Then each client on its own: one that fails again stays in drop-all.
  for (const Client& cl : c.clients) (void)ApplyClient(c, cl);
  return OkStatus();
}

Agent::ApplyResult Agent::ApplyClient(const AgentConfig& c, const Client& client) {
  const firewall::Client fc = FirewallClient(client, c.ipv6);
  auto compiled = firewall::CompileClient(fc, names_, Now());
  if (!compiled) return {Applied::kRefused, Status(compiled.error())};
  firewall::ClientRules after = std::move(*compiled);
  LogNotes(c.qube, after);
  const firewall::ClientRules before = installed_.count(client.id) ? installed_[client.id]
                                                                  : firewall::ClientRules{};
  firewall::ClientRules kept = InstalledObjects(after);
  nft::Batch b = FirewallClientBatch(before, std::move(after));
  Status s = b.status() ? nft::Commit(*nf_, b) : b.status();
  if (s) {
    installed_[client.id] = std::move(kept);
    fw_errors_.erase(client.id);
    return {};
  }
  const std::string why = s.error().message();
  spdlog::error("qube {}: firewall {}: {}; client in drop-all", c.qube, client.name, why);
  // Never open on failure: the fallback deletes nothing and touches no set,
  // so what made the list fail is not in it.
  auto drop = firewall::CompileDropAll(fc);
  Status d = drop ? Status() : Status(drop.error());
  if (drop) {
    nft::Batch db = FirewallDropAllBatch(before, *drop);
    d = db.status() ? nft::Commit(*nf_, db) : db.status();
  }
  if (!d) {
    spdlog::critical("qube {}: firewall {}: drop-all refused too ({}); its previous rules stay",
                     c.qube, client.name, d.error().message());
    fw_errors_[client.id] = fmt::format("{}; drop-all refused too: {}", why, d.error().message());
    return {Applied::kFailed,
            Fail(s.error().Wrap(fmt::format("{} keeps its previous rules: drop-all refused too ({})",
                                            client.name, d.error().message())))};
  }
  installed_[client.id] = MergeInstalled(before, *drop);
  fw_errors_[client.id] = why;
  return {Applied::kDropAll, Fail(s.error().Wrap(fmt::format("{} is in drop-all", client.name)))};
}

void Agent::AdoptInstalled() {
  installed_.clear();
  if (!config_ || !Enforces(*config_)) return;
  // Only what the kernel really holds, and all of it: deleting an absent
  // object would fail the next change; forgetting one would leave it there.
  auto table = nft::ReadTable(*nf_, nft::Family::kInet, nft::kQnetTableName);
  if (!table) return;
  for (const firewall::Client& fc : FirewallClients(*config_))
    installed_[fc.id] = AdoptClientObjects(*table, fc);
}

Client* Agent::FindClient(const std::string& name) {
  if (!config_) return nullptr;
  for (Client& c : config_->clients)
    if (c.name == name) return &c;
  return nullptr;
}

qrexec::ServiceReply Agent::FirewallCall(qrexec::ServiceRequest& req) {
  auto Err = [](int code, const std::string& m) { return qrexec::ServiceReply{code, {}, m + "\n"}; };
  if (!config_) return Err(1, "firewall: not configured");
  auto u = FirewallUpdateFromJson(req.input);
  if (!u) return Err(1, u.error().message());
  Client* client = FindClient(u->client);
  if (!client) return Err(1, fmt::format("firewall: {} is not a client of {}", u->client, opts_.qube));
  Client updated = *client;
  updated.rules = u->rules;
  if (Status s = CheckRulesForRole(config_->role, updated); !s) return Err(1, s.error().message());
  if (!Enforces(*config_)) {
    // A tor gateway: the default list is all a client may have, and there
    // is nothing to enforce (it forwards nothing).
    *client = std::move(updated);
    SaveConfig();
    return {0, fmt::format("applied\n{} forwards nothing: only Tor leaves it\n", opts_.qube), {}};
  }
  // New names resolve now, so the change is in force when the call returns.
  AgentConfig probe{.ipv6 = config_->ipv6, .clients = {updated}};
  ResolveNames(probe, /*only_new=*/true);
  const ApplyResult r = ApplyClient(*config_, updated);
  // Kept when the kernel holds drop-all for it (exit code 2): `apply` or a
  // name refresh retries. Refused (1) or still on the old list (3): not kept.
  if (r.outcome == Applied::kApplied || r.outcome == Applied::kDropAll) {
    *client = std::move(updated);
    SaveConfig();
  }
  if (r.outcome != Applied::kApplied)
    return Err(static_cast<int>(r.outcome), r.status.error().message());
  std::string notes;
  for (const std::string& n : installed_[client->id].notes) notes += n + "\n";
  return {0, "applied\n" + notes, {}};
}

qrexec::ServiceReply Agent::FirewallStateCall(qrexec::ServiceRequest& req) {
  const Client* client = FindClient(req.input);
  if (!client) return {1, {}, fmt::format("firewall: {} is not a client of {}\n", req.input, opts_.qube)};
  nlohmann::json j = {{"client", client->name}, {"notes", nlohmann::json::array()}, {"error", nullptr}};
  if (auto it = installed_.find(client->id); it != installed_.end()) j["notes"] = it->second.notes;
  if (auto it = fw_errors_.find(client->id); it != fw_errors_.end()) j["error"] = it->second;
  return {0, j.dump() + "\n", {}};
}

void Agent::RefreshDueNames() {
  if (!config_) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> due;
  const std::vector<std::string> wanted = FirewallHostnames(*config_);
  for (const std::string& name : wanted) {
    auto it = refresh_at_.find(name);
    if (it == refresh_at_.end() || it->second <= now) due.push_back(name);
  }
  if (due.empty()) return;
  const firewall::Resolutions before = names_;
  for (const std::string& name : due) ResolveOne(name, now);
  if (!Enforces(*config_)) return;
  // Usually only addresses change: the rules compile the same with the old
  // and the new answers, and refilling the sets is enough.
  std::vector<firewall::ClientRules> sets_only;
  std::vector<const Client*> sets_only_clients;  // parallel to sets_only
  std::vector<const Client*> reapply;
  const int64_t at = Now();
  for (const Client& c : config_->clients) {
    if (!UsesAny(c, due)) continue;
    const firewall::Client fc = FirewallClient(c, config_->ipv6);
    auto old_rules = firewall::CompileClient(fc, before, at);
    auto new_rules = firewall::CompileClient(fc, names_, at);
    const bool same = old_rules && new_rules && old_rules->rules == new_rules->rules &&
                      installed_.count(c.id) && !fw_errors_.count(c.id);
    if (same) {
      sets_only.push_back(std::move(*new_rules));
      sets_only_clients.push_back(&c);
    } else {
      reapply.push_back(&c);
    }
  }
  if (!sets_only.empty()) {
    nft::Batch b = FirewallSetsBatch(sets_only);
    Status s = b.status() ? nft::Commit(*nf_, b) : b.status();
    if (s) {
      for (const firewall::ClientRules& cr : sets_only) installed_[cr.id].notes = cr.notes;
    } else {
      spdlog::warn("qube {}: firewall: host sets refresh refused ({}); reapplying", opts_.qube,
                   s.error().message());
      reapply.insert(reapply.end(), sets_only_clients.begin(), sets_only_clients.end());
    }
  }
  for (const Client* c : reapply) (void)ApplyClient(*config_, *c);
}

}  // namespace qnet::agent
