#include "qnet/config/key_registry.h"

#include <fmt/format.h>

#include <algorithm>

#include "errors.h"

namespace qnet::config {
namespace {

bool IsBareKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

}  // namespace

bool KeyRule::AllowsRole(qube::Role role) const {
  if (roles.contains(role)) return true;
  // "Has a netvm" is every role but net: a parsed chain enforces that.
  return any_networked && role != qube::Role::kNet;
}

std::string KeyRule::AllowedDescription() const {
  if (any_networked) return "any qube with a netvm";
  std::vector<std::string_view> names;
  for (qube::Role role : qube::kAllRoles) {
    if (roles.contains(role)) names.push_back(qube::RoleName(role));
  }
  return internal::JoinNames(names);
}

Status KeyRegistry::Add(KeyRule rule) {
  if (std::find(std::begin(kCoreQubeKeys), std::end(kCoreQubeKeys), rule.key) !=
      std::end(kCoreQubeKeys)) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("key registry: '{}' is a core key and cannot be registered", rule.key));
  }
  if (!IsBareKey(rule.key)) {
    return Fail(
        Errc::kInvalidArgument,
        fmt::format("key registry: '{}' is not a bare TOML key ([A-Za-z0-9_-]+)", rule.key));
  }
  if (rule.roles.empty() && !rule.any_networked) {
    return Fail(Errc::kInvalidArgument, fmt::format("key registry: '{}' allows no role", rule.key));
  }
  if (Find(rule.key) != nullptr) {
    return Fail(Errc::kAlreadyExists,
                fmt::format("key registry: '{}' is already registered", rule.key));
  }
  rules_.push_back(std::move(rule));
  return OkStatus();
}

const KeyRule* KeyRegistry::Find(std::string_view key) const {
  for (const KeyRule& rule : rules_) {
    if (rule.key == key) return &rule;
  }
  return nullptr;
}

}  // namespace qnet::config
