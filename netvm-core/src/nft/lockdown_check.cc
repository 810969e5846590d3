// VerifyLockdown: the checks qnetd makes on a qube's table before it brings
// the qube's links up (contracts 1 and 4, docs/security-contract.md).

#include "qnet/nft/lockdown_check.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <vector>

#include "qnet/nft/base_table.h"
#include "qnet/nft/match.h"

namespace qnet::nft {
namespace {

bool IsCapabilityJump(const std::vector<Expr>& exprs, Hook hook) {
  if (exprs.size() != 1) return false;
  const auto* v = std::get_if<Verdict>(&exprs[0]);
  const std::string suffix = fmt::format("-{}", HookName(hook));
  return v && v->code == VerdictCode::kJump && v->chain.size() > suffix.size() &&
         v->chain.ends_with(suffix);
}

// Before its final drop a filter base chain holds its fixed rules (loopback,
// neighbour discovery) and then jumps into capability chains: nothing that
// could accept early and so end evaluation before the drop.
void CheckBeforeFinalDrop(const ChainState& c, Hook hook, std::vector<std::string>& problems) {
  std::vector<Rule> fixed = BaseChainRules(c.chain, {});
  fixed.pop_back();  // the final drop, checked by the caller
  for (size_t i = 0; i + 1 < c.rules.size(); ++i) {
    const std::vector<Expr>& e = c.rules[i].rule.exprs;
    if (i < fixed.size() ? e == fixed[i].exprs : IsCapabilityJump(e, hook)) continue;
    problems.push_back(fmt::format(
        "chain {} rule {} (handle {}) is neither a fixed rule nor a jump into a capability chain",
        c.chain.name, i, c.rules[i].handle));
    return;
  }
}

void CheckFilterChain(const TableState& state, Hook hook, std::vector<std::string>& problems) {
  const std::string name = HookName(hook);
  const std::string counter = DropCounterName(hook);
  const ChainState* c = state.FindChain(name);
  if (c == nullptr) {
    problems.push_back(fmt::format("chain {} missing", name));
  } else if (!c->chain.base || c->chain.base->type != ChainType::kFilter ||
             c->chain.base->hook != hook) {
    problems.push_back(fmt::format("chain {} is not a filter base chain on hook {}", name, name));
  } else {
    if (c->chain.base->policy != Policy::kDrop)
      problems.push_back(
          fmt::format("chain {} policy is {}, want drop", name, PolicyName(c->chain.base->policy)));
    const std::vector<Expr> final_drop = Concat(CountNamed(counter), Drop());
    if (c->rules.empty() || c->rules.back().rule.exprs != final_drop)
      problems.push_back(
          fmt::format("chain {} does not end in 'counter name {} drop'", name, counter));
    else
      CheckBeforeFinalDrop(*c, hook, problems);
  }
  if (state.FindCounter(counter) == nullptr)
    problems.push_back(fmt::format("counter {} missing", counter));
}

}  // namespace

Status VerifyLockdown(const TableState& state) {
  std::vector<std::string> problems;
  for (Hook hook : {Hook::kInput, Hook::kForward, Hook::kOutput})
    CheckFilterChain(state, hook, problems);
  if (problems.empty()) return OkStatus();
  return Fail(Errc::kFailedPrecondition,
              fmt::format("lockdown of {} {} incomplete: {}", FamilyName(state.table.family),
                          state.table.name, fmt::join(problems, "; ")));
}

}  // namespace qnet::nft
