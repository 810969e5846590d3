#include "policy_tokens.h"

#include <fmt/format.h>

#include <algorithm>

#include "qnet/qrexec/command_line.h"

namespace qnet::qrexec::internal {
namespace {

constexpr std::string_view kAdminVm = "@adminvm";
constexpr std::string_view kAdminType = "AdminVM";
constexpr std::string_view kDispVmType = "DispVM";
constexpr size_t kMaxTagLen = 64;

// Tags and types: what Qubes allows in a tag name.
bool ValidLabel(std::string_view label) {
  if (label.empty() || label.size() > kMaxTagLen) return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

bool HasTag(const QubeInfo& qube, std::string_view tag) {
  return std::find(qube.tags.begin(), qube.tags.end(), tag) != qube.tags.end();
}

Status Invalid(std::string_view what, std::string_view token, std::string_view why) {
  return Fail(Errc::kInvalidArgument, fmt::format("{} '{}': {}", what, token, why));
}

// What a source and a target share: * @anyvm @adminvm @tag: @type: @dispvm
// @dispvm:NAME @dispvm:@tag:T and qube names.
Status ValidateCommon(std::string_view what, std::string_view raw, bool allow_default) {
  std::string token = NormalizeToken(raw);
  std::string_view t = token;
  if (t == "*" || t == "@anyvm" || t == kAdminVm || t == "@dispvm") return OkStatus();
  if (t == "@default") {
    return allow_default ? OkStatus() : Invalid(what, raw, "@default is only a target");
  }
  if (t.starts_with("@tag:") || t.starts_with("@type:")) {
    std::string_view label = t.substr(t.find(':') + 1);
    return ValidLabel(label) ? OkStatus() : Invalid(what, raw, "invalid tag or type name");
  }
  if (t.starts_with("@dispvm:@tag:")) {
    return ValidLabel(t.substr(13)) ? OkStatus() : Invalid(what, raw, "invalid tag name");
  }
  if (t.starts_with("@dispvm:")) {
    return ValidateQubeName(t.substr(8)) ? OkStatus() : Invalid(what, raw, "invalid qube name");
  }
  if (t.starts_with("@")) return Invalid(what, raw, "unknown keyword");
  if (!ValidateQubeName(t)) return Invalid(what, raw, "invalid qube name");
  return OkStatus();
}

// The disposable template a "@dispvm" / "@dispvm:NAME" request names, or "".
std::string_view DispVmTemplate(std::string_view requested, const QubeInfo& source) {
  if (requested == "@dispvm") return source.default_dispvm;
  if (requested.starts_with("@dispvm:")) return requested.substr(8);
  return {};
}

}  // namespace

std::string NormalizeToken(std::string_view token) {
  std::string out(token);
  if (!out.empty() && out.front() == '$') out.front() = '@';
  if (out == "dom0") return std::string(kAdminVm);
  return out;
}

Status ValidateSourceToken(std::string_view token) {
  return ValidateCommon("source", token, false);
}

Status ValidateTargetToken(std::string_view token) { return ValidateCommon("target", token, true); }

Status ValidateRedirectToken(std::string_view key, std::string_view raw) {
  std::string token = NormalizeToken(raw);
  std::string_view t = token;
  std::string what = fmt::format("{}=", key);
  if (t == kAdminVm || t == "@dispvm") return OkStatus();
  if (t.starts_with("@dispvm:") && !t.starts_with("@dispvm:@")) {
    return ValidateQubeName(t.substr(8)) ? OkStatus() : Invalid(what, raw, "invalid qube name");
  }
  if (t.starts_with("@")) return Invalid(what, raw, "not a single qube");
  if (!ValidateQubeName(t)) return Invalid(what, raw, "invalid qube name");
  return OkStatus();
}

bool MatchSource(std::string_view token, const QubeInfo& source, const QubeDirectory& qubes) {
  bool admin = source.type == kAdminType;
  bool disposable = source.type == kDispVmType;
  if (token == "*") return true;
  if (token == "@anyvm") return !admin;
  if (token == kAdminVm) return admin;
  if (token == "@dispvm") return disposable;
  if (token.starts_with("@tag:")) return HasTag(source, token.substr(5));
  if (token.starts_with("@type:")) return source.type == token.substr(6);
  if (token.starts_with("@dispvm:@tag:")) {
    const QubeInfo* tmpl = qubes.Find(source.template_for_dispvm);
    return disposable && tmpl != nullptr && HasTag(*tmpl, token.substr(13));
  }
  if (token.starts_with("@dispvm:")) {
    return disposable && source.template_for_dispvm == token.substr(8);
  }
  return token == source.name;
}

bool MatchTarget(std::string_view token, std::string_view requested, const QubeInfo& source,
                 const QubeDirectory& qubes) {
  const QubeInfo* target = requested.starts_with("@") ? nullptr : qubes.Find(requested);
  if (token == "*") return true;
  if (token == "@default") return requested == "@default";
  if (token == kAdminVm) return requested == kAdminVm;
  // As in Qubes: everything but dom0, @default and @dispvm requests included.
  if (token == "@anyvm")
    return requested != kAdminVm && (target == nullptr || target->type != kAdminType);
  if (token == "@dispvm") return requested == "@dispvm";
  if (token.starts_with("@dispvm:@tag:")) {
    const QubeInfo* tmpl = qubes.Find(DispVmTemplate(requested, source));
    return tmpl != nullptr && HasTag(*tmpl, token.substr(13));
  }
  if (token.starts_with("@dispvm:")) {
    std::string_view tmpl = DispVmTemplate(requested, source);
    return !tmpl.empty() && tmpl == token.substr(8);
  }
  if (token.starts_with("@tag:")) return target != nullptr && HasTag(*target, token.substr(5));
  if (token.starts_with("@type:")) return target != nullptr && target->type == token.substr(6);
  return token == requested;
}

}  // namespace qnet::qrexec::internal
