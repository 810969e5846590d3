#include "firewall_apply.h"

#include <set>

#include "qnet/firewall/nft_names.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/match.h"

namespace qnet::agent {
namespace {

const nft::Set* FindSet(const std::vector<nft::Set>& sets, std::string_view name) {
  for (const nft::Set& s : sets)
    if (s.name == name) return &s;
  return nullptr;
}

// Chains of one client keyed by name (each flushed, also one left empty).
void AddClientContents(firewall::ClientRules&& c,
                       std::map<std::string, std::vector<nft::Rule>>& chains,
                       std::vector<nft::SetContents>& sets) {
  for (const nft::Chain& ch : c.chains) chains[ch.name];
  for (nft::Rule& r : c.rules) {
    std::vector<nft::Rule>& into = chains[r.chain];
    into.push_back(std::move(r));
  }
  for (nft::SetContents& s : c.sets) sets.push_back(std::move(s));
}

// Entries of the shared maps (fw-src4, fw-src6, fw-vifs).
void AddMapEntries(nft::Batch& b, const std::vector<firewall::SetEntries>& entries) {
  const std::vector<nft::Set> shared = firewall::CompileShared().sets;
  for (const firewall::SetEntries& e : entries)
    if (const nft::Set* s = FindSet(shared, e.set)) b.AddElements(nft::QnetTable(), *s, e.elements);
}

void DeleteStale(nft::Batch& b, const firewall::StaleObjects& stale) {
  const nft::Table t = nft::QnetTable();
  const std::vector<nft::Set> shared = firewall::CompileShared().sets;
  for (const firewall::SetEntries& e : stale.map_entries) {
    if (const nft::Set* s = FindSet(shared, e.set)) b.DelElements(t, *s, e.elements);
  }
  // Chains first: a stale chain (fw-<id>-6 once IPv6 is gone) is referenced
  // only by map entries deleted above; sets and counters only by rules.
  for (const std::string& c : stale.chains) {
    b.FlushChain(t, c);
    b.DelChain(t, c);
  }
  for (const std::string& s : stale.sets) b.DelSet(t, s);
  for (const std::string& c : stale.counters) b.DelCounter(t, c);
}

}  // namespace

firewall::Client FirewallClient(const Client& c, bool ipv6) {
  return {.name = c.name, .id = c.id, .ipv4 = c.addr4, .ipv6 = ipv6 ? c.addr6 : std::nullopt,
          .vif = c.vif, .rules = c.rules};
}

std::vector<firewall::Client> FirewallClients(const AgentConfig& config) {
  std::vector<firewall::Client> out;
  for (const Client& c : config.clients) out.push_back(FirewallClient(c, config.ipv6));
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

firewall::ClientRules InstalledObjects(const firewall::ClientRules& c) {
  firewall::ClientRules out{.id = c.id, .name = c.name, .chains = c.chains, .rules = {},
                            .sets = {}, .counters = c.counters, .map_entries = c.map_entries,
                            .notes = c.notes};
  for (const nft::SetContents& s : c.sets) out.sets.push_back({s.set, {}});
  return out;
}

nft::Batch FirewallInstallBatch(firewall::CompiledFirewall&& compiled,
                                const std::map<uint32_t, firewall::ClientRules>& previous,
                                std::map<uint32_t, firewall::ClientRules>* installed) {
  const nft::Table t = nft::QnetTable();
  if (installed != nullptr) {
    installed->clear();
    for (const firewall::ClientRules& c : compiled.clients) (*installed)[c.id] = InstalledObjects(c);
  }
  // Clients that are gone, or objects a client no longer has: decided
  // before the rules move into the batch, deleted after it.
  std::map<uint32_t, const firewall::ClientRules*> by_id;
  for (const firewall::ClientRules& c : compiled.clients) by_id[c.id] = &c;
  const firewall::ClientRules gone;
  std::vector<firewall::StaleObjects> stale;
  for (const auto& [id, before] : previous) {
    auto it = by_id.find(id);
    firewall::StaleObjects s = firewall::Stale(before, it != by_id.end() ? *it->second : gone);
    s.map_entries.clear();  // the maps are refilled whole
    stale.push_back(std::move(s));
  }
  nft::Batch b;
  for (const nft::CounterObject& c : compiled.counters) b.AddCounter(t, c);
  std::map<std::string, std::vector<nft::Rule>> chains;
  std::vector<nft::SetContents> sets;
  for (const nft::Chain& ch : compiled.chains) chains[ch.name];
  for (nft::Rule& r : compiled.rules) {
    std::vector<nft::Rule>& into = chains[r.chain];
    into.push_back(std::move(r));
  }
  // The shared maps are refilled whole: every client's entries.
  std::map<std::string, std::vector<nft::SetElement>> entries;
  for (firewall::ClientRules& c : compiled.clients) {
    for (const nft::CounterObject& co : c.counters) b.AddCounter(t, co);
    for (firewall::SetEntries& e : c.map_entries) {
      std::vector<nft::SetElement>& into = entries[e.set];
      into.insert(into.end(), std::make_move_iterator(e.elements.begin()),
                  std::make_move_iterator(e.elements.end()));
    }
    AddClientContents(std::move(c), chains, sets);
  }
  for (const nft::Set& s : compiled.sets) sets.push_back({s, std::move(entries[s.name])});
  b.Append(nft::ReplaceChainsBatch(std::move(chains), std::move(sets)));
  for (const firewall::StaleObjects& s : stale) DeleteStale(b, s);
  return b;
}

nft::Batch FirewallClientBatch(const firewall::ClientRules& before, firewall::ClientRules after) {
  const nft::Table t = nft::QnetTable();
  const firewall::StaleObjects stale = firewall::Stale(before, after);
  const std::vector<firewall::SetEntries> map_entries = after.map_entries;
  nft::Batch b;
  for (const nft::CounterObject& co : after.counters) b.AddCounter(t, co);
  std::map<std::string, std::vector<nft::Rule>> chains;
  std::vector<nft::SetContents> sets;
  AddClientContents(std::move(after), chains, sets);
  b.Append(nft::ReplaceChainsBatch(std::move(chains), std::move(sets)));
  AddMapEntries(b, map_entries);
  DeleteStale(b, stale);
  return b;
}

nft::Batch FirewallDropAllBatch(const firewall::ClientRules& before,
                                const firewall::ClientRules& drop) {
  const nft::Table t = nft::QnetTable();
  nft::Batch b;
  for (const nft::CounterObject& co : drop.counters) b.AddCounter(t, co);
  std::map<std::string, std::vector<nft::Rule>> chains;
  for (const nft::Chain& ch : before.chains) chains[ch.name];
  for (const nft::Chain& ch : drop.chains) chains[ch.name];
  for (const nft::Rule& r : drop.rules) chains[r.chain].push_back(r);
  b.Append(nft::ReplaceChainsBatch(std::move(chains), {}));
  AddMapEntries(b, drop.map_entries);
  return b;
}

firewall::ClientRules MergeInstalled(const firewall::ClientRules& a,
                                     const firewall::ClientRules& b) {
  firewall::ClientRules out = InstalledObjects(a);
  auto add_unique = [](auto& into, const auto& item, auto same) {
    for (const auto& x : into)
      if (same(x, item)) return;
    into.push_back(item);
  };
  for (const nft::Chain& c : b.chains)
    add_unique(out.chains, c, [](const auto& x, const auto& y) { return x.name == y.name; });
  for (const nft::SetContents& s : b.sets)
    add_unique(out.sets, nft::SetContents{s.set, {}},
               [](const auto& x, const auto& y) { return x.set.name == y.set.name; });
  for (const nft::CounterObject& c : b.counters)
    add_unique(out.counters, c, [](const auto& x, const auto& y) { return x.name == y.name; });
  for (const firewall::SetEntries& e : b.map_entries) {
    firewall::SetEntries* into = nullptr;
    for (firewall::SetEntries& o : out.map_entries)
      if (o.set == e.set) into = &o;
    if (into == nullptr) into = &out.map_entries.emplace_back(firewall::SetEntries{e.set, {}});
    for (const nft::SetElement& el : e.elements)
      add_unique(into->elements, el, [](const auto& x, const auto& y) { return x.key == y.key; });
  }
  out.notes = b.notes;
  return out;
}

nft::Batch FirewallSetsBatch(const std::vector<firewall::ClientRules>& clients) {
  const nft::Table t = nft::QnetTable();
  nft::Batch b;
  for (const firewall::ClientRules& c : clients) {
    for (const nft::SetContents& s : c.sets) {
      b.AddSet(t, s.set);
      b.FlushSet(t, s.set.name);
      b.AddElements(t, s.set, s.elements);
    }
  }
  return b;
}

firewall::ClientRules AdoptClientObjects(const nft::TableState& table,
                                         const firewall::Client& client) {
  firewall::ClientRules out{.id = client.id, .name = client.name};
  for (const nft::ChainState& c : table.chains)
    if (firewall::IsClientObject(client.id, c.chain.name))
      out.chains.push_back(nft::Chain{c.chain.name, std::nullopt});
  for (const nft::SetState& s : table.sets)
    if (firewall::IsClientObject(client.id, s.set.name)) out.sets.push_back({s.set, {}});
  for (const nft::CounterState& c : table.counters)
    if (firewall::IsClientObject(client.id, c.name)) out.counters.push_back({c.name});
  const nft::Bytes vif = nft::IfnameKey(client.vif);
  for (const nft::Set& shared : firewall::CompileShared().sets) {
    const nft::SetState* held = table.FindSet(shared.name);
    if (held == nullptr) continue;
    firewall::SetEntries entries{shared.name, {}};
    for (const nft::SetElement& e : held->elements) {
      const bool ours = e.verdict ? firewall::IsClientObject(client.id, e.verdict->chain)
                                  : e.key == vif;
      if (ours) entries.elements.push_back(e);
    }
    if (!entries.elements.empty()) out.map_entries.push_back(std::move(entries));
  }
  return out;
}

}  // namespace qnet::agent
