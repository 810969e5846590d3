#include "chain_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "errors.h"
#include "qnet/qube/address.h"

namespace qnet::config::internal {
namespace {

constexpr size_t kMaxChainNameLength = 63;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// Sorted names of the qubes that may be a netvm, for "known: ..." lists.
std::string NetworkProviders(const ChainSpec& spec) {
  std::vector<std::string> names;
  for (const QubeSpec& q : spec.qubes) {
    if (qube::ProvidesNetwork(q.role)) names.push_back(q.name);
  }
  std::sort(names.begin(), names.end());
  return names.empty() ? "none" : JoinNames(names);
}

Status CheckNetvmPresence(const ChainSpec& spec) {
  const QubeSpec* net = nullptr;
  for (const QubeSpec& q : spec.qubes) {
    if (q.role == qube::Role::kNet) {
      if (q.netvm) {
        return Fail(ConfigError(q.netvm_pos, QubeKeyPath(q.name, "netvm"),
                                "a qube of role net has no netvm (it owns the uplink)"));
      }
      if (net != nullptr) {
        return Fail(ConfigError(
            q.role_pos, QubeKeyPath(q.name, "role"),
            fmt::format("a chain has only one qube of role net ('{}' is one already)", net->name)));
      }
      net = &q;
    } else if (!q.netvm) {
      return Fail(ConfigError(
          q.pos, QubeKeyPath(q.name),
          fmt::format("missing key 'netvm' (a qube of role {} needs one)", RoleName(q.role))));
    }
  }
  if (net == nullptr) {
    return Fail(ConfigError(FileStart(spec), "qube", "no qube of role net"));
  }
  return OkStatus();
}

Status CheckNetvmTargets(const ChainSpec& spec) {
  for (const QubeSpec& q : spec.qubes) {
    if (!q.netvm) continue;
    const QubeSpec* target = spec.FindQube(*q.netvm);
    std::string path = QubeKeyPath(q.name, "netvm");
    if (target == nullptr) {
      return Fail(ConfigError(
          q.netvm_pos, path,
          fmt::format("unknown netvm '{}' (known: {})", *q.netvm, NetworkProviders(spec))));
    }
    if (!qube::ProvidesNetwork(target->role)) {
      return Fail(ConfigError(q.netvm_pos, path,
                              fmt::format("netvm '{}' is of role {}, which provides no network",
                                          target->name, RoleName(target->role))));
    }
  }
  return OkStatus();
}

std::string JoinArrows(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += " -> ";
    out += n;
  }
  return out;
}

// Called once every netvm is known to exist: each walk then either reaches
// the net qube or loops. The first qube in file order that lies on a loop
// names it, so the message does not depend on where the walk started.
Status CheckCycles(const ChainSpec& spec) {
  for (const QubeSpec& start : spec.qubes) {
    std::vector<std::string_view> walk = {start.name};
    const QubeSpec* cur = &start;
    for (size_t steps = 0; cur->netvm && steps <= spec.qubes.size(); ++steps) {
      cur = spec.FindQube(*cur->netvm);
      if (cur == nullptr) break;
      walk.push_back(cur->name);
      if (cur == &start) {
        return Fail(ConfigError(start.netvm_pos, QubeKeyPath(start.name, "netvm"),
                                fmt::format("netvm cycle: {}", JoinArrows(walk))));
      }
    }
  }
  return OkStatus();
}

}  // namespace

SourcePos FileStart(const ChainSpec& spec) {
  if (spec.source_path.empty()) return SourcePos{};
  return SourcePos{spec.source_path, 1, 1};
}

Status CheckChainName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return Fail(Errc::kInvalidArgument, fmt::format("invalid chain name '{}': {}", name, why));
  };
  if (name.empty()) return bad("empty");
  if (name.size() > kMaxChainNameLength) {
    return bad(fmt::format("longer than {} characters", kMaxChainNameLength));
  }
  if (!IsNameChar(name.front()) || name.front() == '.' || name.front() == '-' ||
      name.front() == '_') {
    return bad("must start with a letter or digit");
  }
  if (!std::all_of(name.begin(), name.end(), IsNameChar)) {
    return bad("only letters, digits, '_', '.' and '-' are allowed");
  }
  return OkStatus();
}

std::string KnownQubeKeys(const KeyRegistry& registry) {
  std::vector<std::string_view> keys(std::begin(kCoreQubeKeys), std::end(kCoreQubeKeys));
  for (const KeyRule& rule : registry.rules()) keys.push_back(rule.key);
  return JoinNames(keys);
}

Status CheckRoleKey(const QubeSpec& q, const Value::Member& member, const KeyRegistry& registry) {
  std::string path = QubeKeyPath(q.name, member.key);
  const KeyRule* rule = registry.Find(member.key);
  if (rule == nullptr) {
    return Fail(ConfigError(
        member.key_pos, path,
        fmt::format("unknown key '{}' (known: {})", member.key, KnownQubeKeys(registry))));
  }
  if (!rule->AllowsRole(q.role)) {
    return Fail(ConfigError(member.key_pos, path,
                            fmt::format("key '{}' is not allowed for a qube of role {} "
                                        "(allowed: {})",
                                        member.key, RoleName(q.role), rule->AllowedDescription())));
  }
  if (rule->validate) {
    if (Status s = rule->validate(member.value, member.key_pos); !s) {
      return Fail(ConfigError(member.key_pos, path, s.error().message()));
    }
  }
  return OkStatus();
}

Status CheckTopology(const ChainSpec& spec) {
  if (spec.qubes.empty()) {
    return Fail(ConfigError(FileStart(spec), "qube", "no qubes defined"));
  }
  QNET_TRY(CheckNetvmPresence(spec));
  QNET_TRY(CheckNetvmTargets(spec));
  return CheckCycles(spec);
}

Status CheckIds(const ChainSpec& spec, bool only_explicit) {
  std::map<uint32_t, const QubeSpec*> used;
  for (const QubeSpec& q : spec.qubes) {
    if (only_explicit && !q.id_explicit) continue;
    std::string path = QubeKeyPath(q.name, "id");
    if (Status s = qube::ValidateQubeId(q.id); !s) {
      return Fail(ConfigError(q.id_pos, path, s.error().message()));
    }
    auto [it, inserted] = used.emplace(q.id, &q);
    if (!inserted) {
      return Fail(
          ConfigError(q.id_pos, path,
                      fmt::format("id {} is already used by qube '{}'", q.id, it->second->name)));
    }
  }
  return OkStatus();
}

Status AssignIds(ChainSpec& spec) {
  std::set<uint32_t> used;
  for (const QubeSpec& q : spec.qubes) {
    if (q.id_explicit) used.insert(q.id);
  }
  uint32_t next = qube::kMinQubeId;
  for (QubeSpec& q : spec.qubes) {
    if (q.id_explicit) continue;
    while (used.contains(next)) ++next;
    if (next > qube::kMaxQubeId) {
      return Fail(ConfigError(q.pos, QubeKeyPath(q.name), "no free qube id left"));
    }
    q.id = next;
    used.insert(next);
  }
  return OkStatus();
}

}  // namespace qnet::config::internal

namespace qnet::config {

Status ValidateChainSpec(const ChainSpec& spec, const KeyRegistry& registry) {
  using internal::ConfigError;
  using internal::QubeKeyPath;
  SourcePos start = internal::FileStart(spec);
  if (Status s = internal::CheckChainName(spec.name); !s) {
    return Fail(ConfigError(start, "chain.name", s.error().message()));
  }
  if (spec.lab && !spec.lab->keys.empty()) {
    const Value::Member& m = spec.lab->keys.front();
    return Fail(ConfigError(m.key_pos, internal::JoinKeyPath("lab", m.key),
                            fmt::format("unknown key '{}' ([lab] has no keys yet)", m.key)));
  }
  std::set<std::string_view> names;
  for (const QubeSpec& q : spec.qubes) {
    if (Status s = qube::ValidateQubeName(q.name); !s) {
      return Fail(ConfigError(q.pos, QubeKeyPath(q.name), s.error().message()));
    }
    if (!names.insert(q.name).second) {
      return Fail(
          ConfigError(q.pos, QubeKeyPath(q.name), fmt::format("duplicate qube name '{}'", q.name)));
    }
    for (const Value::Member& m : q.extra) QNET_TRY(internal::CheckRoleKey(q, m, registry));
  }
  QNET_TRY(internal::CheckTopology(spec));
  return internal::CheckIds(spec, /*only_explicit=*/false);
}

}  // namespace qnet::config
