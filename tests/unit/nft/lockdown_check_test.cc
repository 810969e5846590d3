// VerifyLockdown on good and broken table states.

#include "qnet/nft/lockdown_check.h"

#include <gtest/gtest.h>

#include "qnet/nft/base_table.h"
#include "qnet/nft/match.h"

namespace qnet::nft {
namespace {

// What ReadTable returns right after LockdownBatch + InstallCapabilities.
TableState GoodState() {
  TableState st;
  st.table = QnetTable();
  uint64_t handle = 1;
  for (const Chain& c : BaseChains()) {
    ChainState cs{c, handle++, {}};
    for (const Rule& r : BaseChainRules(c, {"netvm"})) cs.rules.push_back({r, handle++});
    st.chains.push_back(cs);
  }
  for (const char* n : {"drop-input", "drop-forward", "drop-output"})
    st.counters.push_back({n, 0, 0, handle++});
  return st;
}

ChainState& Find(TableState& st, std::string_view name) {
  for (ChainState& c : st.chains)
    if (c.chain.name == name) return c;
  throw std::logic_error("no chain");
}

TEST(VerifyLockdown, AcceptsTheTableTheBatchesBuild) {
  Status s = VerifyLockdown(GoodState());
  EXPECT_TRUE(s.ok()) << s.error().message();
}

TEST(VerifyLockdown, ReportsAMissingChainAndItsCounter) {
  TableState st = GoodState();
  st.chains.erase(st.chains.begin() + 1);  // forward
  st.counters.pop_back();                  // drop-output
  Status s = VerifyLockdown(st);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kFailedPrecondition);
  EXPECT_EQ(s.error().message(),
            "lockdown of inet qnet incomplete: chain forward missing; counter drop-output missing");
}

TEST(VerifyLockdown, ReportsAcceptPolicy) {
  TableState st = GoodState();
  Find(st, "output").chain.base->policy = Policy::kAccept;
  EXPECT_EQ(VerifyLockdown(st).error().message(),
            "lockdown of inet qnet incomplete: chain output policy is accept, want drop");
}

TEST(VerifyLockdown, ReportsAMissingOrWrongFinalDrop) {
  TableState st = GoodState();
  Find(st, "input").rules.pop_back();
  Find(st, "forward").rules.back().rule.exprs = Drop();  // drop without the named counter
  Find(st, "output").rules.clear();
  EXPECT_EQ(VerifyLockdown(st).error().message(),
            "lockdown of inet qnet incomplete: chain input does not end in 'counter name "
            "drop-input drop'; chain forward does not end in 'counter name drop-forward drop'; "
            "chain output does not end in 'counter name drop-output drop'");
}

// An accept before the final drop ends evaluation there: the drop at the end
// is never reached for what it matches (here: everything).
TEST(VerifyLockdown, ReportsAnEarlyAcceptBeforeTheFinalDrop) {
  TableState st = GoodState();
  auto& forward = Find(st, "forward").rules;
  forward.insert(forward.begin(), RuleState{Rule{"forward", Accept(), std::nullopt}, 99});
  auto& input = Find(st, "input").rules;
  input.insert(input.end() - 1,
               RuleState{Rule{"input", Concat(IifName("eth0"), Accept()), std::nullopt}, 98});
  // A jump to something that is not a capability chain of the hook.
  auto& output = Find(st, "output").rules;
  output.insert(output.end() - 1, RuleState{Rule{"output", Jump("elsewhere"), std::nullopt}, 97});
  EXPECT_EQ(VerifyLockdown(st).error().message(),
            "lockdown of inet qnet incomplete: chain input rule 4 (handle 98) is neither a fixed "
            "rule nor a jump into a capability chain; chain forward rule 0 (handle 99) is neither "
            "a fixed rule nor a jump into a capability chain; chain output rule 5 (handle 97) is "
            "neither a fixed rule nor a jump into a capability chain");
}

TEST(VerifyLockdown, ReportsARegularOrNatChainWhereAFilterBaseChainBelongs) {
  TableState st = GoodState();
  Find(st, "input").chain.base.reset();
  Find(st, "forward").chain.base->type = ChainType::kNat;
  EXPECT_EQ(VerifyLockdown(st).error().message(),
            "lockdown of inet qnet incomplete: chain input is not a filter base chain on hook "
            "input; chain forward is not a filter base chain on hook forward");
}

TEST(VerifyLockdown, ReportsAnEmptyTable) {
  TableState st;
  st.table = QnetTable();
  EXPECT_EQ(VerifyLockdown(st).error().message(),
            "lockdown of inet qnet incomplete: chain input missing; counter drop-input missing; "
            "chain forward missing; counter drop-forward missing; chain output missing; counter "
            "drop-output missing");
}

}  // namespace
}  // namespace qnet::nft
