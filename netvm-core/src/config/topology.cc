#include "qnet/config/topology.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace qnet::config {

namespace {

// Why no unplaced qube can be placed: an unknown netvm, or else a cycle,
// found by walking netvms from the first unplaced qube until one repeats.
Error StuckError(const ChainSpec& spec, const std::set<std::string_view>& placed) {
  for (const QubeSpec& q : spec.qubes) {
    if (!placed.contains(q.name) && q.netvm && spec.FindQube(*q.netvm) == nullptr) {
      return Error(Errc::kInvalidArgument,
                   fmt::format("qube '{}': unknown netvm '{}'", q.name, *q.netvm));
    }
  }
  std::vector<std::string_view> walk;
  const QubeSpec* cur = nullptr;
  for (const QubeSpec& q : spec.qubes) {
    if (!placed.contains(q.name)) {
      cur = &q;
      break;
    }
  }
  // Every unplaced qube has a known netvm that is unplaced too, so the walk
  // stays among unplaced qubes and must repeat within spec.qubes.size() steps.
  while (cur != nullptr && cur->netvm) {
    auto seen = std::find(walk.begin(), walk.end(), cur->name);
    if (seen != walk.end()) {
      std::string cycle;
      for (auto it = seen; it != walk.end(); ++it) cycle += fmt::format("{} -> ", *it);
      cycle += cur->name;
      return Error(Errc::kInvalidArgument, fmt::format("netvm cycle: {}", cycle));
    }
    walk.push_back(cur->name);
    cur = spec.FindQube(*cur->netvm);
  }
  return Error(Errc::kInternal, "topological order: no progress without a cycle");
}

}  // namespace

Result<std::vector<std::string>> TopologicalOrder(const ChainSpec& spec) {
  std::vector<std::string> order;
  std::set<std::string_view> placed;
  order.reserve(spec.qubes.size());
  // Repeated file-order sweeps: quadratic, and chains are a handful of
  // qubes, but it keeps file order among qubes that are ready together.
  while (order.size() < spec.qubes.size()) {
    size_t before = order.size();
    for (const QubeSpec& q : spec.qubes) {
      if (placed.contains(q.name)) continue;
      if (q.netvm && !placed.contains(*q.netvm)) continue;
      placed.insert(q.name);
      order.push_back(q.name);
    }
    if (order.size() == before) return Fail(StuckError(spec, placed));
  }
  return order;
}

std::vector<std::string> ClientsOf(const ChainSpec& spec, std::string_view name) {
  std::vector<std::string> clients;
  for (const QubeSpec& q : spec.qubes) {
    if (q.netvm && *q.netvm == name) clients.push_back(q.name);
  }
  return clients;
}

Result<std::vector<std::string>> PathToNet(const ChainSpec& spec, std::string_view name) {
  const QubeSpec* cur = spec.FindQube(name);
  if (cur == nullptr) return Fail(Errc::kNotFound, fmt::format("unknown qube '{}'", name));
  std::vector<std::string> path = {cur->name};
  while (cur->netvm) {
    if (path.size() > spec.qubes.size()) {
      return Fail(Errc::kInvalidArgument,
                  fmt::format("qube '{}': netvm cycle on the way to the net qube", name));
    }
    const QubeSpec* next = spec.FindQube(*cur->netvm);
    if (next == nullptr) {
      return Fail(Errc::kInvalidArgument,
                  fmt::format("qube '{}': unknown netvm '{}'", cur->name, *cur->netvm));
    }
    cur = next;
    path.push_back(cur->name);
  }
  if (cur->role != qube::Role::kNet) {
    return Fail(
        Errc::kInvalidArgument,
        fmt::format("qube '{}': path ends at '{}', which has no netvm and is not of role net", name,
                    cur->name));
  }
  return path;
}

}  // namespace qnet::config
