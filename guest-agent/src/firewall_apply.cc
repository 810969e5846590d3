#include "firewall_apply.h"

#include <set>

#include "qnet/firewall/nft_names.h"
#include "qnet/nft/base_table.h"

namespace qnet::agent {
namespace {

const nft::Set* FindSet(const std::vector<nft::Set>& sets, std::string_view name) {
  for (const nft::Set& s : sets)
    if (s.name == name) return &s;
  return nullptr;
}

// Chains of one client keyed by name (each flushed, also one left empty).
void AddClientContents(const firewall::ClientRules& c,
                       std::map<std::string, std::vector<nft::Rule>>& chains,
                       std::vector<nft::SetContents>& sets) {
  for (const nft::Chain& ch : c.chains) chains[ch.name];
  for (const nft::Rule& r : c.rules) chains[r.chain].push_back(r);
  for (const nft::SetContents& s : c.sets) sets.push_back(s);
}

void DeleteStale(nft::Batch& b, const firewall::StaleObjects& stale) {
  const nft::Table t = nft::QnetTable();
  const std::vector<nft::Set> shared = firewall::CompileShared().sets;
  for (const firewall::SetEntries& e : stale.map_entries) {
    if (const nft::Set* s = FindSet(shared, e.set)) b.DelElements(t, *s, e.elements);
  }
  // Chains first: a stale expiry chain is referenced only by the (already
  // flushed) client chain; sets and counters only by rules.
  for (const std::string& c : stale.chains) {
    b.FlushChain(t, c);
    b.DelChain(t, c);
  }
  for (const std::string& s : stale.sets) b.DelSet(t, s);
  for (const std::string& c : stale.counters) b.DelCounter(t, c);
}

}  // namespace

std::vector<firewall::Client> FirewallClients(const AgentConfig& config) {
  std::vector<firewall::Client> out;
  for (const Client& c : config.clients)
    out.push_back({.name = c.name, .id = c.id, .ipv4 = c.addr4,
                   .ipv6 = config.ipv6 ? c.addr6 : std::nullopt, .vif = c.vif, .rules = c.rules});
  return out;
}

std::vector<std::string> FirewallHostnames(const AgentConfig& config) {
  std::set<std::string> names;
  for (const Client& c : config.clients)
    for (const firewall::Rule& r : c.rules.rules())
      if (r.dst)
        if (const auto* h = std::get_if<firewall::Hostname>(&*r.dst)) names.insert(h->name);
  return {names.begin(), names.end()};
}

Status CheckRulesForRole(const std::string& role, const Client& client) {
  if (role == "tor" && !client.rules.IsDefaultAccept())
    return Fail(Errc::kInvalidArgument,
                fmt::format("client {}: a tor gateway accepts only the default firewall list "
                            "(accept); it carries nothing but Tor",
                            client.name));
  return OkStatus();
}

nft::Batch FirewallInstallBatch(const firewall::CompiledFirewall& compiled,
                                const std::map<uint32_t, firewall::ClientRules>& previous) {
  const nft::Table t = nft::QnetTable();
  nft::Batch b;
  for (const nft::CounterObject& c : compiled.counters) b.AddCounter(t, c);
  std::map<std::string, std::vector<nft::Rule>> chains;
  std::vector<nft::SetContents> sets;
  for (const nft::Chain& ch : compiled.chains) chains[ch.name];
  for (const nft::Rule& r : compiled.rules) chains[r.chain].push_back(r);
  // The shared maps are refilled whole: every client's entries.
  std::map<std::string, std::vector<nft::SetElement>> entries;
  for (const firewall::ClientRules& c : compiled.clients) {
    for (const nft::CounterObject& co : c.counters) b.AddCounter(t, co);
    AddClientContents(c, chains, sets);
    for (const firewall::SetEntries& e : c.map_entries)
      entries[e.set].insert(entries[e.set].end(), e.elements.begin(), e.elements.end());
  }
  for (const nft::Set& s : compiled.sets) sets.push_back({s, entries[s.name]});
  b.Append(nft::ReplaceChainsBatch(chains, sets));
  // Clients that are gone, or objects a client no longer has.
  for (const auto& [id, before] : previous) {
    firewall::ClientRules after{.id = id};
    for (const firewall::ClientRules& c : compiled.clients)
      if (c.id == id) after = c;
    firewall::StaleObjects stale = firewall::Stale(before, after);
    stale.map_entries.clear();  // the maps were refilled whole
    DeleteStale(b, stale);
  }
  return b;
}

nft::Batch FirewallClientBatch(const firewall::ClientRules& before,
                               const firewall::ClientRules& after) {
  const nft::Table t = nft::QnetTable();
  nft::Batch b;
  for (const nft::CounterObject& co : after.counters) b.AddCounter(t, co);
  std::map<std::string, std::vector<nft::Rule>> chains;
  std::vector<nft::SetContents> sets;
  AddClientContents(after, chains, sets);
  b.Append(nft::ReplaceChainsBatch(chains, sets));
  const std::vector<nft::Set> shared = firewall::CompileShared().sets;
  for (const firewall::SetEntries& e : after.map_entries)
    if (const nft::Set* s = FindSet(shared, e.set)) b.AddElements(t, *s, e.elements);
  DeleteStale(b, firewall::Stale(before, after));
  return b;
}

}  // namespace qnet::agent
