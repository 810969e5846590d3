// Chain file -> ChainSpec. The TOML text becomes a Value tree first
// (toml_reader.cc), so everything here works on positioned values only.
#include <fmt/format.h>

#include <functional>
#include <string>

#include "chain_check.h"
#include "errors.h"
#include "qnet/base/fd.h"
#include "qnet/config/chain_file.h"
#include "qnet/qube/address.h"
#include "toml_reader.h"

namespace qnet::config {
namespace {

using internal::ConfigError;
using internal::JoinKeyPath;
using internal::QubeKeyPath;

// ---- [qube.NAME] core keys: one row per key ----

struct CoreQubeKey {
  std::string_view key;
  Value::Kind kind;
  // Stores the value; a failure is a bare message (the caller positions it).
  Status (*apply)(QubeSpec& q, const Value& v);
  SourcePos QubeSpec::*pos;  // where to remember the value's position, if anywhere
};

Status ApplyRole(QubeSpec& q, const Value& v) {
  QNET_ASSIGN_OR_RETURN(q.role, qube::ParseRole(v.as_string()));
  return OkStatus();
}

Status ApplyLabel(QubeSpec& q, const Value& v) {
  QNET_ASSIGN_OR_RETURN(q.label, qube::ParseLabel(v.as_string()));
  return OkStatus();
}

Status ApplyId(QubeSpec& q, const Value& v) {
  int64_t id = v.as_integer();
  if (id < qube::kMinQubeId || id > qube::kMaxQubeId) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("id {} out of range ({}..{})", id, qube::kMinQubeId, qube::kMaxQubeId));
  }
  q.id = static_cast<uint32_t>(id);
  q.id_explicit = true;
  return OkStatus();
}

Status ApplyNetvm(QubeSpec& q, const Value& v) {
  q.netvm = v.as_string();
  return OkStatus();
}

// "host", a template name (`qnet template create NAME`) or an absolute path
// to a root tree (its existence is checked when the qube starts: the file is
// parsed without touching the filesystem).
Status ApplyTemplate(QubeSpec& q, const Value& v) {
  const std::string& t = v.as_string();
  if (t == "host") {
    q.template_dir.clear();
    return OkStatus();
  }
  if (!t.empty() && t.front() != '/' && qube::ValidateTemplateName(t)) {
    q.template_dir = t;
    return OkStatus();
  }
  if (t.empty() || t.front() != '/' || t.find("/../") != std::string::npos || t.ends_with("/..") ||
      t.find('\n') != std::string::npos || t.find(',') != std::string::npos ||
      t.find(':') != std::string::npos)
    return Fail(Errc::kInvalidArgument,
                fmt::format("template '{}': want \"host\", a template name or an absolute "
                            "directory path (without '..', ',' or ':')",
                            t));
  q.template_dir = t;
  return OkStatus();
}

Status ApplyDispvm(QubeSpec& q, const Value& v) {
  q.dispvm = v.as_boolean();
  return OkStatus();
}

constexpr CoreQubeKey kCoreQubeKeyRows[] = {
    {"role", Value::Kind::kString, ApplyRole, &QubeSpec::role_pos},
    {"label", Value::Kind::kString, ApplyLabel, nullptr},
    {"id", Value::Kind::kInteger, ApplyId, &QubeSpec::id_pos},
    {"netvm", Value::Kind::kString, ApplyNetvm, &QubeSpec::netvm_pos},
    {"template", Value::Kind::kString, ApplyTemplate, &QubeSpec::template_pos},
    {"dispvm", Value::Kind::kBoolean, ApplyDispvm, nullptr},
};

const CoreQubeKey* FindCoreQubeKey(std::string_view key) {
  for (const CoreQubeKey& row : kCoreQubeKeyRows) {
    if (row.key == key) return &row;
  }
  return nullptr;
}

// Type check, then the row's own check, both reported at the value.
Status ApplyTyped(std::string_view path, const Value& v, Value::Kind kind,
                  const std::function<Status()>& apply) {
  if (Status s = v.Expect(kind); !s) return Fail(ConfigError(v.pos(), path, s.error().message()));
  if (Status s = apply(); !s) return Fail(ConfigError(v.pos(), path, s.error().message()));
  return OkStatus();
}

class ChainParser {
 public:
  ChainParser(std::string_view path, const KeyRegistry& registry) : registry_(registry) {
    spec_.source_path = std::string(path);
  }

  Result<ChainSpec> Parse(const Value& root) {
    for (const Value::Member& m : root.as_table()) QNET_TRY(ParseTopLevel(m));
    if (!seen_chain_) {
      return Fail(ConfigError(internal::FileStart(spec_), "chain", "missing table [chain]"));
    }
    QNET_TRY(internal::CheckTopology(spec_));
    QNET_TRY(internal::CheckIds(spec_, /*only_explicit=*/true));
    QNET_TRY(internal::AssignIds(spec_));
    return std::move(spec_);
  }

 private:
  struct TopLevelRow {
    std::string_view key;
    Status (ChainParser::*parse)(const Value::Member& m);
  };

  Status ParseTopLevel(const Value::Member& m) {
    static constexpr TopLevelRow kTopLevel[] = {
        {"chain", &ChainParser::ParseChain},
        {"lab", &ChainParser::ParseLab},
        {"qube", &ChainParser::ParseQubes},
    };
    for (const TopLevelRow& row : kTopLevel) {
      if (row.key != m.key) continue;
      std::string path = JoinKeyPath("", m.key);
      if (Status s = m.value.Expect(Value::Kind::kTable); !s) {
        return Fail(ConfigError(m.value.pos(), path, s.error().message()));
      }
      return (this->*row.parse)(m);
    }
    return Fail(ConfigError(m.key_pos, JoinKeyPath("", m.key),
                            fmt::format("unknown key '{}' (known: chain, lab, qube)", m.key)));
  }

  Status ParseChain(const Value::Member& chain) {
    seen_chain_ = true;
    bool has_name = false;
    for (const Value::Member& m : chain.value.as_table()) {
      std::string path = JoinKeyPath("chain", m.key);
      if (m.key == "name") {
        has_name = true;
        QNET_TRY(ApplyTyped(path, m.value, Value::Kind::kString, [&]() -> Status {
          QNET_TRY(internal::CheckChainName(m.value.as_string()));
          spec_.name = m.value.as_string();
          return OkStatus();
        }));
      } else if (m.key == "ipv6") {
        QNET_TRY(ApplyTyped(path, m.value, Value::Kind::kString, [&]() -> Status {
          QNET_ASSIGN_OR_RETURN(spec_.ipv6, ParseIpv6Mode(m.value.as_string()));
          return OkStatus();
        }));
      } else {
        return Fail(ConfigError(m.key_pos, path,
                                fmt::format("unknown key '{}' (known: name, ipv6)", m.key)));
      }
    }
    if (!has_name) {
      return Fail(ConfigError(chain.value.pos(), "chain", "missing key 'name'"));
    }
    return OkStatus();
  }

  Status ParseLab(const Value::Member& lab) {
    if (!lab.value.as_table().empty()) {
      const Value::Member& m = lab.value.as_table().front();
      return Fail(ConfigError(m.key_pos, JoinKeyPath("lab", m.key),
                              fmt::format("unknown key '{}' ([lab] has no keys yet)", m.key)));
    }
    spec_.lab = LabSpec{.pos = lab.value.pos(), .keys = {}};
    return OkStatus();
  }

  Status ParseQubes(const Value::Member& qubes) {
    for (const Value::Member& m : qubes.value.as_table()) {
      QNET_ASSIGN_OR_RETURN(QubeSpec q, ParseQube(m));
      spec_.qubes.push_back(std::move(q));
    }
    return OkStatus();
  }

  Result<QubeSpec> ParseQube(const Value::Member& member) {
    std::string path = QubeKeyPath(member.key);
    if (Status s = qube::ValidateQubeName(member.key); !s) {
      return Fail(ConfigError(member.key_pos, path, s.error().message()));
    }
    if (Status s = member.value.Expect(Value::Kind::kTable); !s) {
      return Fail(ConfigError(member.value.pos(), path, s.error().message()));
    }
    QubeSpec q;
    q.name = member.key;
    q.pos = member.value.pos();
    bool has_role = false;
    bool has_label = false;
    // Core keys and unknown keys first, in file order, so that a misspelt
    // "rol" is reported as such rather than as a missing role.
    for (const Value::Member& m : member.value.as_table()) {
      const CoreQubeKey* row = FindCoreQubeKey(m.key);
      if (row == nullptr) {
        if (registry_.Find(m.key) == nullptr) QNET_TRY(internal::CheckRoleKey(q, m, registry_));
        continue;
      }
      QNET_TRY(ApplyTyped(QubeKeyPath(q.name, m.key), m.value, row->kind,
                          [&] { return row->apply(q, m.value); }));
      if (row->pos != nullptr) q.*(row->pos) = m.value.pos();
      has_role |= m.key == "role";
      has_label |= m.key == "label";
    }
    if (!has_role) return Fail(ConfigError(q.pos, path, "missing key 'role'"));
    if (!has_label) return Fail(ConfigError(q.pos, path, "missing key 'label'"));
    // Role keys need the role, which may come after them in the file.
    for (const Value::Member& m : member.value.as_table()) {
      if (FindCoreQubeKey(m.key) != nullptr) continue;
      QNET_TRY(internal::CheckRoleKey(q, m, registry_));
      q.extra.push_back(m);
    }
    return q;
  }

  const KeyRegistry& registry_;
  ChainSpec spec_;
  bool seen_chain_ = false;
};

}  // namespace

Result<ChainSpec> ParseChainText(std::string_view text, std::string_view display_path,
                                 const KeyRegistry& registry) {
  QNET_ASSIGN_OR_RETURN(Value root, internal::ReadToml(text, display_path));
  return ChainParser(display_path, registry).Parse(root);
}

Result<ChainSpec> ParseChainFile(const std::string& path, const KeyRegistry& registry) {
  QNET_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseChainText(text, path, registry);
}

}  // namespace qnet::config
