#include "qnet/firewall/install_batch.h"

#include "qnet/firewall/nft_names.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/match.h"

namespace qnet::firewall {
namespace {

const nft::Set* FindSet(const std::vector<nft::Set>& sets, std::string_view name) {
  for (const nft::Set& s : sets)
    if (s.name == name) return &s;
  return nullptr;
}

// Chains of one client keyed by name (each flushed, also one left empty).
void AddClientContents(ClientRules&& c, std::map<std::string, std::vector<nft::Rule>>& chains,
                       std::vector<nft::SetContents>& sets) {
  for (const nft::Chain& ch : c.chains) chains[ch.name];
  for (nft::Rule& r : c.rules) {
    std::vector<nft::Rule>& into = chains[r.chain];
    into.push_back(std::move(r));
  }
  for (nft::SetContents& s : c.sets) sets.push_back(std::move(s));
}

// Entries of the shared maps (fw-src4, fw-src6, fw-vifs).
void AddMapEntries(nft::Batch& b, const std::vector<SetEntries>& entries) {
  const std::vector<nft::Set> shared = CompileShared().sets;
  for (const SetEntries& e : entries)
    if (const nft::Set* s = FindSet(shared, e.set)) b.AddElements(nft::QnetTable(), *s, e.elements);
}

void DeleteStale(nft::Batch& b, const StaleObjects& stale) {
  const nft::Table t = nft::QnetTable();
  const std::vector<nft::Set> shared = CompileShared().sets;
  for (const SetEntries& e : stale.map_entries) {
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

ClientRules InstalledObjects(const ClientRules& c) {
  ClientRules out{.id = c.id,
                  .name = c.name,
                  .chains = c.chains,
                  .rules = {},
                  .sets = {},
                  .counters = c.counters,
                  .map_entries = c.map_entries,
                  .notes = c.notes};
  for (const nft::SetContents& s : c.sets) out.sets.push_back({s.set, {}});
  return out;
}

nft::Batch FirewallInstallBatch(CompiledFirewall&& compiled,
                                const std::map<uint32_t, ClientRules>& previous,
                                std::map<uint32_t, ClientRules>* installed) {
  const nft::Table t = nft::QnetTable();
  if (installed != nullptr) {
    installed->clear();
    for (const ClientRules& c : compiled.clients) (*installed)[c.id] = InstalledObjects(c);
  }
  // Clients that are gone, or objects a client no longer has: decided
  // before the rules move into the batch, deleted after it.
  std::map<uint32_t, const ClientRules*> by_id;
  for (const ClientRules& c : compiled.clients) by_id[c.id] = &c;
  const ClientRules gone;
  std::vector<StaleObjects> stale;
  for (const auto& [id, before] : previous) {
    auto it = by_id.find(id);
    StaleObjects s = Stale(before, it != by_id.end() ? *it->second : gone);
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
  for (ClientRules& c : compiled.clients) {
    for (const nft::CounterObject& co : c.counters) b.AddCounter(t, co);
    for (SetEntries& e : c.map_entries) {
      std::vector<nft::SetElement>& into = entries[e.set];
      into.insert(into.end(), std::make_move_iterator(e.elements.begin()),
                  std::make_move_iterator(e.elements.end()));
    }
    AddClientContents(std::move(c), chains, sets);
  }
  for (const nft::Set& s : compiled.sets) sets.push_back({s, std::move(entries[s.name])});
  b.Append(nft::ReplaceChainsBatch(std::move(chains), std::move(sets)));
  for (const StaleObjects& s : stale) DeleteStale(b, s);
  return b;
}

nft::Batch FirewallClientBatch(const ClientRules& before, ClientRules after) {
  const nft::Table t = nft::QnetTable();
  const StaleObjects stale = Stale(before, after);
  const std::vector<SetEntries> map_entries = after.map_entries;
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

nft::Batch FirewallDropAllBatch(const ClientRules& before, const ClientRules& drop) {
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

ClientRules MergeInstalled(const ClientRules& a, const ClientRules& b) {
  ClientRules out = InstalledObjects(a);
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
  for (const SetEntries& e : b.map_entries) {
    SetEntries* into = nullptr;
    for (SetEntries& o : out.map_entries)
      if (o.set == e.set) into = &o;
    if (into == nullptr) into = &out.map_entries.emplace_back(SetEntries{e.set, {}});
    for (const nft::SetElement& el : e.elements)
      add_unique(into->elements, el, [](const auto& x, const auto& y) { return x.key == y.key; });
  }
  out.notes = b.notes;
  return out;
}

nft::Batch FirewallSetsBatch(const std::vector<ClientRules>& clients) {
  const nft::Table t = nft::QnetTable();
  nft::Batch b;
  for (const ClientRules& c : clients) {
    for (const nft::SetContents& s : c.sets) {
      b.AddSet(t, s.set);
      b.FlushSet(t, s.set.name);
      b.AddElements(t, s.set, s.elements);
    }
  }
  return b;
}

ClientRules AdoptClientObjects(const nft::TableState& table, const Client& client) {
  ClientRules out{.id = client.id, .name = client.name};
  for (const nft::ChainState& c : table.chains)
    if (IsClientObject(client.id, c.chain.name))
      out.chains.push_back(nft::Chain{c.chain.name, std::nullopt});
  for (const nft::SetState& s : table.sets)
    if (IsClientObject(client.id, s.set.name)) out.sets.push_back({s.set, {}});
  for (const nft::CounterState& c : table.counters)
    if (IsClientObject(client.id, c.name)) out.counters.push_back({c.name});
  const nft::Bytes vif = nft::IfnameKey(client.vif);
  for (const nft::Set& shared : CompileShared().sets) {
    const nft::SetState* held = table.FindSet(shared.name);
    if (held == nullptr) continue;
    SetEntries entries{shared.name, {}};
    for (const nft::SetElement& e : held->elements) {
      const bool ours = e.verdict ? IsClientObject(client.id, e.verdict->chain) : e.key == vif;
      if (ours) entries.elements.push_back(e);
    }
    if (!entries.elements.empty()) out.map_entries.push_back(std::move(entries));
  }
  return out;
}

}  // namespace qnet::firewall
