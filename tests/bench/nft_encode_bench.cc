// Google Benchmark: encoding 10,000 firewall-style rules with qnet::nft::Batch.
// Not a test (never registered with ctest). Run: <build>/bin/nft_encode_bench
//
//   BM_BuildRules     build 10k nft::Rule values with the match.h builders
//   BM_BatchAddRules  append them to a Batch (validation + copy)
//   BM_BatchEncode    Encode() a prebuilt 10k-rule Batch to its NFNL bytes
//   BM_BuildAddEncode the three together: what a 10k-rule reload costs in
//                     user space before the kernel sees it
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/batch.h"
#include "qnet/nft/match.h"
#include "qnet/nft/ruleset.h"

namespace {

using namespace qnet;
using namespace qnet::nft;  // NOLINT: the builders read like nft syntax

constexpr int kRules = 10000;
const char* const kChain = "fw-10-137-0-3";

// ip saddr 10.137.x.y tcp dport P accept, as the firewall compiler emits
// for one Qubes rule per client and port.
std::vector<Rule> MakeRules() {
  std::vector<Rule> rules;
  rules.reserve(kRules);
  for (int i = 0; i < kRules; ++i) {
    IpAddr a =
        IpAddr::V4(10, 137, static_cast<uint8_t>(i / 250), static_cast<uint8_t>(i % 250 + 1));
    auto port = static_cast<uint16_t>(1024 + i % 60000);
    rules.push_back(
        Rule{kChain, Concat(Ip4Saddr(a), TcpDport(port), Count(), Accept()), std::nullopt});
  }
  return rules;
}

Batch MakeBatch(const std::vector<Rule>& rules) {
  Batch b;
  const Table t = QnetTable();
  b.AddTable(t);
  b.AddChain(t, Chain{kChain, std::nullopt});
  b.FlushChain(t, kChain);
  for (const Rule& r : rules) b.AddRule(t, r);
  return b;
}

void BM_BuildRules(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(MakeRules());
  state.SetItemsProcessed(state.iterations() * kRules);
}
BENCHMARK(BM_BuildRules)->Unit(benchmark::kMillisecond);

void BM_BatchAddRules(benchmark::State& state) {
  const std::vector<Rule> rules = MakeRules();
  for (auto _ : state) {
    Batch b = MakeBatch(rules);
    if (!b.status()) state.SkipWithError("batch refused a rule");
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations() * kRules);
}
BENCHMARK(BM_BatchAddRules)->Unit(benchmark::kMillisecond);

void BM_BatchEncode(benchmark::State& state) {
  const Batch b = MakeBatch(MakeRules());
  if (!b.status()) state.SkipWithError("batch refused a rule");
  size_t bytes = 0;
  for (auto _ : state) {
    std::vector<uint8_t> wire = b.Encode();
    bytes = wire.size();
    benchmark::DoNotOptimize(wire);
  }
  state.SetItemsProcessed(state.iterations() * kRules);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["wire_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_BatchEncode)->Unit(benchmark::kMillisecond);

void BM_BuildAddEncode(benchmark::State& state) {
  for (auto _ : state) {
    Batch b = MakeBatch(MakeRules());
    benchmark::DoNotOptimize(b.Encode());
  }
  state.SetItemsProcessed(state.iterations() * kRules);
}
BENCHMARK(BM_BuildAddEncode)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
