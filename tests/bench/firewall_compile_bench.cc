// Google Benchmark: the user-space half of the firewall's bulk apply, 1,000
// synthetic clients x 10 Qubes rules (synthetic_clients.h), stage by stage.
// Not a test (never registered with ctest); no root, no kernel. Run:
//   <build>/bin/firewall_compile_bench
//
//   BM_Compile       firewall::Compile of the 1,000 clients
//   BM_InstallBatch  FirewallInstallBatch of that output (what the agent appends)
//   BM_Encode        Batch::Encode of that batch: the NFNL bytes Commit sends
//   BM_All           the three together: everything before the kernel sees it
// firewall_apply_bench measures the same path with the kernel, against nft -f.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "qnet/firewall/compiler.h"
#include "qnet/firewall/install_batch.h"
#include "synthetic_clients.h"

namespace {

using namespace qnet;

constexpr uint32_t kClients = 1000;
constexpr uint32_t kFirstId = 100;

const std::vector<firewall::Client>& Clients() {
  static const std::vector<firewall::Client> clients = [] {
    auto c = bench::SyntheticClients(kFirstId, kClients);
    if (!c) std::abort();
    return *c;
  }();
  return clients;
}

firewall::CompiledFirewall CompileAll() {
  auto fw = firewall::Compile(Clients(), {}, 0);
  if (!fw) std::abort();
  return std::move(*fw);
}

void BM_Compile(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(CompileAll());
  state.SetItemsProcessed(state.iterations() * kClients * bench::kRulesPerClient);
}
BENCHMARK(BM_Compile)->Unit(benchmark::kMillisecond);

void BM_InstallBatch(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    firewall::CompiledFirewall fw = CompileAll();
    state.ResumeTiming();
    benchmark::DoNotOptimize(firewall::FirewallInstallBatch(std::move(fw), {}));
  }
  state.SetItemsProcessed(state.iterations() * kClients * bench::kRulesPerClient);
}
BENCHMARK(BM_InstallBatch)->Unit(benchmark::kMillisecond);

void BM_Encode(benchmark::State& state) {
  const nft::Batch b = firewall::FirewallInstallBatch(CompileAll(), {});
  size_t bytes = 0;
  for (auto _ : state) {
    std::vector<uint8_t> out = b.Encode();
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["messages"] = static_cast<double>(b.size());
  state.counters["wire_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond);

void BM_All(benchmark::State& state) {
  for (auto _ : state) {
    nft::Batch b = firewall::FirewallInstallBatch(CompileAll(), {});
    benchmark::DoNotOptimize(b.Encode());
  }
  state.SetItemsProcessed(state.iterations() * kClients * bench::kRulesPerClient);
}
BENCHMARK(BM_All)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
