#include "qnet/nft/base_table.h"

#include <fmt/format.h>

#include "qnet/nft/match.h"

namespace qnet::nft {
namespace {

// ICMPv6 types (RFC 4861) the base chains let through with hop limit 255.
constexpr uint8_t kRouterSolicitation = 133;
constexpr uint8_t kNeighborSolicitation = 135;
constexpr uint8_t kNeighborAdvertisement = 136;
constexpr uint8_t kNdHopLimit = 255;

bool IsBaseChainName(std::string_view name) {
  for (const Chain& c : BaseChains())
    if (c.name == name) return true;
  return false;
}

bool IsFilter(const Chain& c) { return c.base && c.base->type == ChainType::kFilter; }

Rule NdRule(const std::string& chain, uint8_t type) {
  return Rule{chain, Concat(Ip6HopLimit(kNdHopLimit), Icmpv6Type(type), Accept()), std::nullopt};
}

std::vector<Rule> AlwaysRules(const Chain& c) {
  switch (c.base->hook) {
    case Hook::kInput:
      return {Rule{c.name, Concat(IifName("lo"), Accept()), std::nullopt},
              NdRule(c.name, kNeighborSolicitation), NdRule(c.name, kNeighborAdvertisement)};
    case Hook::kOutput:
      return {Rule{c.name, Concat(OifName("lo"), Accept()), std::nullopt},
              NdRule(c.name, kRouterSolicitation), NdRule(c.name, kNeighborSolicitation),
              NdRule(c.name, kNeighborAdvertisement)};
    default:
      return {};
  }
}

void AddLockdownObjects(Batch& b) {
  const Table t = QnetTable();
  b.AddTable(t);
  for (const Chain& c : BaseChains()) {
    if (IsFilter(c)) b.AddCounter(t, CounterObject{DropCounterName(c.base->hook)});
  }
  for (const Chain& c : BaseChains()) b.AddChain(t, c);
}

void FillBaseChains(Batch& b, const std::vector<std::string>& capabilities, bool flush) {
  const Table t = QnetTable();
  for (const Chain& c : BaseChains()) {
    if (flush) b.FlushChain(t, c.name);
    for (const Rule& r : BaseChainRules(c, capabilities)) b.AddRule(t, r);
  }
}

void AddCapabilityChains(Batch& b, const std::vector<std::string>& capabilities) {
  const Table t = QnetTable();
  for (const std::string& cap : capabilities) {
    for (const Chain& c : BaseChains())
      b.AddChain(t, Chain{CapabilityChainName(cap, c.base->hook), std::nullopt});
  }
}

// Chains and sets are created before anything refers to them: sets, then
// their elements (verdict maps may jump to the chains), then the rules.
void ReplaceContents(Batch& b, std::map<std::string, std::vector<Rule>>&& chains,
                     std::vector<SetContents>&& sets, bool flush) {
  const Table t = QnetTable();
  for (const auto& [name, rules] : chains) b.AddChain(t, Chain{name, std::nullopt});
  for (const SetContents& s : sets) b.AddSet(t, s.set);
  for (const SetContents& s : sets) {
    if (flush) b.FlushSet(t, s.set.name);
    b.AddElements(t, s.set, s.elements);
  }
  for (auto& [name, rules] : chains) {
    if (flush) b.FlushChain(t, name);
    for (Rule& rule : rules) {
      rule.chain = name;
      b.AddRule(t, std::move(rule));
    }
  }
}

}  // namespace

Table QnetTable() { return Table{Family::kInet, std::string(kQnetTableName)}; }

std::vector<Chain> BaseChains() {
  auto base = [](const char* name, ChainType type, Hook hook, int32_t prio, Policy policy) {
    return Chain{name, BaseHook{type, hook, prio, policy}};
  };
  return {
      base("input", ChainType::kFilter, Hook::kInput, 0, Policy::kDrop),
      base("forward", ChainType::kFilter, Hook::kForward, 0, Policy::kDrop),
      base("output", ChainType::kFilter, Hook::kOutput, 0, Policy::kDrop),
      base("prerouting", ChainType::kNat, Hook::kPrerouting, -100, Policy::kAccept),
      base("postrouting", ChainType::kNat, Hook::kPostrouting, 100, Policy::kAccept),
  };
}

std::string DropCounterName(Hook hook) { return fmt::format("drop-{}", HookName(hook)); }

std::string CapabilityChainName(std::string_view capability, Hook hook) {
  return fmt::format("{}-{}", capability, HookName(hook));
}

std::vector<Rule> BaseChainRules(const Chain& base_chain,
                                 const std::vector<std::string>& capabilities) {
  if (!base_chain.base) return {};
  std::vector<Rule> rules = AlwaysRules(base_chain);
  const Hook hook = base_chain.base->hook;
  for (const std::string& cap : capabilities)
    rules.push_back(Rule{base_chain.name, Jump(CapabilityChainName(cap, hook)), std::nullopt});
  if (IsFilter(base_chain))
    rules.push_back(
        Rule{base_chain.name, Concat(CountNamed(DropCounterName(hook)), Drop()), std::nullopt});
  return rules;
}

Batch LockdownBatch() {
  Batch b;
  AddLockdownObjects(b);
  // Flushing makes a re-run on an existing table reset it to lockdown
  // instead of appending a second copy of the fixed rules.
  FillBaseChains(b, {}, /*flush=*/true);
  return b;
}

Batch InstallCapabilitiesBatch(const std::vector<std::string>& capabilities) {
  Batch b;
  for (size_t i = 0; i < capabilities.size(); ++i) {
    if (capabilities[i].empty()) b.Invalidate("capability name is empty");
    for (size_t j = 0; j < i; ++j)
      if (capabilities[i] == capabilities[j])
        b.Invalidate(fmt::format("capability {} listed twice", capabilities[i]));
  }
  AddCapabilityChains(b, capabilities);
  FillBaseChains(b, capabilities, /*flush=*/true);
  return b;
}

Batch ReplaceChainsBatch(const std::map<std::string, std::vector<Rule>>& chains,
                         const std::vector<SetContents>& sets) {
  return ReplaceChainsBatch(std::map<std::string, std::vector<Rule>>(chains),
                            std::vector<SetContents>(sets));
}

Batch ReplaceChainsBatch(std::map<std::string, std::vector<Rule>>&& chains,
                         std::vector<SetContents>&& sets) {
  Batch b;
  for (const auto& [name, rules] : chains)
    if (IsBaseChainName(name))
      b.Invalidate(fmt::format("chain {} is a base chain; its contents are fixed", name));
  ReplaceContents(b, std::move(chains), std::move(sets), /*flush=*/true);
  return b;
}

}  // namespace qnet::nft
