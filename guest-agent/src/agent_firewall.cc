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
    refresh_at_[name] = now + firewall::RefreshInterval(ttl);
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
  for (const firewall::ClientRules& cr : fw.clients) {
    LogNotes(c.qube, cr);
    (*compiled)[cr.id] = cr;
  }
  return FirewallInstallBatch(fw, installed_);
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
  if (!InstallRoleRules(*nf_, c, FirewallInstallBatch(drop, installed_))) return s;
  installed_.clear();
  fw_errors_.clear();
  for (const auto& d : drop.clients) installed_[d.id] = d;
  // Then each client on its own: one that fails again stays in drop-all.
  for (const Client& cl : c.clients) (void)ApplyClient(c, cl);
  return OkStatus();
}

Status Agent::ApplyClient(const AgentConfig& c, const Client& client) {
  const firewall::Client fc = FirewallClients(AgentConfig{.ipv6 = c.ipv6, .clients = {client}})[0];
  QNET_ASSIGN_OR_RETURN(firewall::ClientRules after, firewall::CompileClient(fc, names_, Now()));
  LogNotes(c.qube, after);
  const firewall::ClientRules before = installed_.count(client.id) ? installed_[client.id]
                                                                  : firewall::ClientRules{};
  nft::Batch b = FirewallClientBatch(before, after);
  Status s = b.status() ? nft::Commit(*nf_, b) : b.status();
  if (s) {
    installed_[client.id] = std::move(after);
    fw_errors_.erase(client.id);
    return s;
  }
  const std::string why = s.error().message();
  spdlog::error("qube {}: firewall {}: {}; client in drop-all", c.qube, client.name, why);
  fw_errors_[client.id] = why;
  QNET_ASSIGN_OR_RETURN(firewall::ClientRules drop, firewall::CompileDropAll(fc));
  nft::Batch d = FirewallClientBatch(before, drop);
  if (d.status() && nft::Commit(*nf_, d)) installed_[client.id] = std::move(drop);
  return Fail(s.error().Wrap(fmt::format("{} is in drop-all", client.name)));
}

void Agent::AdoptInstalled() {
  installed_.clear();
  if (!config_ || !Enforces(*config_)) return;
  // Only what the kernel really holds: deleting an absent object would fail
  // the next change (a client in drop-all at the restart has fewer objects).
  auto table = nft::ReadTable(*nf_, nft::Family::kInet, nft::kQnetTableName);
  if (!table) return;
  for (const firewall::Client& fc : FirewallClients(*config_)) {
    // Names unresolved: the same object names, sets refilled at the refresh.
    auto cr = firewall::CompileClient(fc, {}, Now());
    if (!cr) continue;
    std::erase_if(cr->chains, [&](const nft::Chain& c) { return !table->FindChain(c.name); });
    std::erase_if(cr->rules, [&](const nft::Rule& r) { return !table->FindChain(r.chain); });
    std::erase_if(cr->sets, [&](const nft::SetContents& c) { return !table->FindSet(c.set.name); });
    std::erase_if(cr->counters,
                  [&](const nft::CounterObject& c) { return !table->FindCounter(c.name); });
    for (firewall::SetEntries& e : cr->map_entries) {
      const nft::SetState* held = table->FindSet(e.set);
      std::erase_if(e.elements, [&](const nft::SetElement& el) {
        return !held || std::none_of(held->elements.begin(), held->elements.end(),
                                     [&](const nft::SetElement& h) { return h.key == el.key; });
      });
    }
    installed_[fc.id] = std::move(*cr);
  }
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
  if (!Enforces(*config_)) return Err(1, fmt::format("firewall: {} enforces no rules", opts_.qube));
  // New names resolve now, so the change is in force when the call returns.
  AgentConfig probe{.ipv6 = config_->ipv6, .clients = {updated}};
  ResolveNames(probe, /*only_new=*/true);
  Status s = ApplyClient(*config_, updated);
  // Kept also on failure (exit code 2): the kernel holds drop-all for this
  // client, and `apply` or a name refresh retries.
  *client = std::move(updated);
  SaveConfig();
  if (!s) return Err(2, s.error().message());
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
  for (const std::string& name : due) ResolveOne(name, now);
  for (const Client& c : config_->clients)
    if (UsesAny(c, due)) (void)ApplyClient(*config_, c);
}

}  // namespace qnet::agent
