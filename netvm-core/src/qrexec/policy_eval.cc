// Evaluates a request against a parsed policy: the first matching rule
// decides, nothing matching denies (policy.h).
#include <fmt/format.h>

#include "policy_tokens.h"
#include "qnet/qrexec/command_line.h"
#include "qnet/qrexec/policy.h"

namespace qnet::qrexec {
namespace {

PolicyDecision Deny(std::string reason, std::optional<PolicyLocation> rule = std::nullopt) {
  PolicyDecision d;
  d.action = PolicyAction::kDeny;
  d.notify = true;
  d.rule = std::move(rule);
  d.reason = std::move(reason);
  return d;
}

bool MatchService(const PolicyRule& rule, const PolicyRequest& request) {
  if (rule.service != "*" && rule.service != request.service) return false;
  return !rule.argument || *rule.argument == request.argument;
}

// "@dispvm" becomes the source's disposable template ("@dispvm:NAME").
Result<std::string> ResolveTarget(std::string_view target, const QubeInfo& source) {
  if (target == "@dispvm") {
    if (source.default_dispvm.empty()) {
      return Error(Errc::kNotFound,
                   fmt::format("{} has no default disposable template for @dispvm", source.name));
    }
    return "@dispvm:" + source.default_dispvm;
  }
  if (target == "@adminvm") return std::string("dom0");
  return std::string(target);
}

PolicyDecision Decided(const PolicyRule& rule, std::string_view requested, const QubeInfo& source) {
  std::string where = FormatLocation(rule.location);
  if (rule.action == PolicyAction::kDeny) {
    PolicyDecision d = Deny(fmt::format("denied by {}", where), rule.location);
    d.notify = rule.notify.value_or(true);
    return d;
  }
  PolicyDecision d;
  d.action = rule.action;
  d.rule = rule.location;
  d.user = rule.user.value_or("");
  d.autostart = rule.autostart.value_or(true);
  d.notify = rule.notify.value_or(false);
  std::string_view target = rule.redirect ? std::string_view(*rule.redirect) : requested;
  if (rule.action == PolicyAction::kAsk) {
    if (rule.default_target) {
      Result<std::string> def = ResolveTarget(*rule.default_target, source);
      d.default_target = def.value_or("");
    }
    if (target != "@default") d.target = ResolveTarget(target, source).value_or("");
    d.reason = fmt::format("ask by {}", where);
    return d;
  }
  if (target == "@default") {
    return Deny(fmt::format("{}: allow without target= cannot serve a call to @default", where),
                rule.location);
  }
  Result<std::string> resolved = ResolveTarget(target, source);
  if (!resolved)
    return Deny(fmt::format("{}: {}", where, resolved.error().message()), rule.location);
  d.target = *resolved;
  d.reason = fmt::format("allowed by {}", where);
  return d;
}

// A requested target: "" -> "@default", "dom0" -> "@adminvm"; a name must
// be a known qube.
Result<std::string> NormalizeRequested(std::string_view target, const QubeDirectory& qubes) {
  if (target.empty()) return std::string("@default");
  std::string t(target);
  if (t == "dom0") t = "@adminvm";
  if (t == "@default" || t == "@adminvm" || t == "@dispvm") return t;
  if (t.starts_with("@dispvm:")) {
    if (qubes.Find(t.substr(8)) == nullptr) {
      return Error(Errc::kNotFound, fmt::format("no such qube '{}'", t.substr(8)));
    }
    return t;
  }
  if (t.starts_with("@"))
    return Error(Errc::kInvalidArgument, fmt::format("target '{}' is not a qube", t));
  if (qubes.Find(t) == nullptr) return Error(Errc::kNotFound, fmt::format("no such qube '{}'", t));
  return t;
}

}  // namespace

std::string_view PolicyActionName(PolicyAction action) {
  switch (action) {
    case PolicyAction::kAllow:
      return "allow";
    case PolicyAction::kDeny:
      return "deny";
    case PolicyAction::kAsk:
      return "ask";
  }
  return "deny";
}

std::string FormatLocation(const PolicyLocation& location) {
  return fmt::format("{}:{}", location.file, location.line);
}

QubeDirectory::QubeDirectory(std::vector<QubeInfo> qubes) {
  QubeInfo dom0;
  dom0.name = "dom0";
  dom0.type = "AdminVM";
  qubes_.emplace(dom0.name, dom0);
  for (QubeInfo& q : qubes) {
    std::string name = q.name;
    qubes_.insert_or_assign(std::move(name), std::move(q));
  }
}

const QubeInfo* QubeDirectory::Find(std::string_view name) const {
  auto it = qubes_.find(name);
  return it == qubes_.end() ? nullptr : &it->second;
}

PolicyDecision Policy::Evaluate(const PolicyRequest& request, const QubeDirectory& qubes) const {
  if (Status s = ValidateServiceName(request.service); !s) return Deny(s.error().message());
  if (!request.argument.empty()) {
    if (Status s = ValidateServiceArgument(request.service, request.argument); !s) {
      return Deny(s.error().message());
    }
  }
  const QubeInfo* source = qubes.Find(request.source == "@adminvm" ? "dom0" : request.source);
  if (source == nullptr) return Deny(fmt::format("no such source qube '{}'", request.source));
  Result<std::string> requested = NormalizeRequested(request.target, qubes);
  if (!requested) return Deny(requested.error().message());
  for (const PolicyRule& rule : rules_) {
    if (!MatchService(rule, request)) continue;
    if (!internal::MatchSource(rule.source, *source, qubes)) continue;
    if (!internal::MatchTarget(rule.target, *requested, *source, qubes)) continue;
    return Decided(rule, *requested, *source);
  }
  return Deny("no rule matched");
}

PolicyDecision Decide(const Result<Policy>& policy, const PolicyRequest& request,
                      const QubeDirectory& qubes) {
  if (!policy) return Deny(fmt::format("policy invalid: {}", policy.error().message()));
  return policy->Evaluate(request, qubes);
}

std::string FormatDecision(const PolicyDecision& d) {
  std::string out(PolicyActionName(d.action));
  if (!d.target.empty()) out += " target=" + d.target;
  if (!d.default_target.empty()) out += " default_target=" + d.default_target;
  if (!d.user.empty()) out += " user=" + d.user;
  if (d.action != PolicyAction::kDeny) out += d.autostart ? " autostart=yes" : " autostart=no";
  out += d.notify ? " notify=yes" : " notify=no";
  out += " (" + d.reason + ")";
  return out;
}

}  // namespace qnet::qrexec
