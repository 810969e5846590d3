#include "qnet/qube/qube.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace qnet::qube {
namespace {

// Names Qubes refuses outright: its own keywords and dom0's names.
constexpr std::array<std::string_view, 4> kReservedNames = {"none", "default", "dom0", "Domain-0"};

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsNameChar(char c) {
  return IsAsciiAlpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

}  // namespace

Status ValidateQubeName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return Fail(Errc::kInvalidArgument, fmt::format("invalid qube name '{}': {}", name, why));
  };
  if (name.empty()) return bad("empty");
  if (name.size() > kMaxQubeNameLength) {
    return bad(fmt::format("longer than {} characters", kMaxQubeNameLength));
  }
  if (!IsAsciiAlpha(name.front())) return bad("must start with a letter");
  if (!std::all_of(name.begin(), name.end(), IsNameChar)) {
    return bad("only letters, digits, '_', '.' and '-' are allowed");
  }
  if (std::find(kReservedNames.begin(), kReservedNames.end(), name) != kReservedNames.end()) {
    return bad("reserved name");
  }
  // Qubes names a qube's device-model stub domain "<name>-dm".
  if (name.ends_with("-dm")) return bad("must not end in '-dm'");
  return OkStatus();
}

Status ValidateTemplateName(std::string_view name) {
  if (Status s = ValidateQubeName(name); !s) {
    std::string why = s.error().message();
    const std::string_view prefix = "invalid qube name";
    if (why.starts_with(prefix)) why.replace(0, prefix.size(), "invalid template name");
    return Fail(Errc::kInvalidArgument, why);
  }
  return OkStatus();
}

}  // namespace qnet::qube
