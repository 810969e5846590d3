// The registry the config tests parse with: stand-ins for the rows the
// firewall and vpn modules register in qnetd.
#pragma once

#include <fmt/format.h>

#include "qnet/config/key_registry.h"

namespace qnet::config::testing {

inline Status ValidateTestFirewall(const Value& v, const SourcePos&) {
  QNET_TRY(v.Expect(Value::Kind::kArray));
  size_t n = 0;
  for (const Value& rule : v.as_array()) {
    ++n;
    if (!rule.is_string()) {
      return Fail(
          Errc::kInvalidArgument,
          fmt::format("rule {}: {}", n, rule.Expect(Value::Kind::kString).error().message()));
    }
    if (rule.as_string() != "accept" && rule.as_string() != "drop") {
      return Fail(Errc::kInvalidArgument,
                  fmt::format("rule {}: unknown action '{}'", n, rule.as_string()));
    }
  }
  return OkStatus();
}

inline KeyRegistry TestRegistry() {
  KeyRegistry registry;
  Status fw = registry.Add(KeyRule{
      .key = "firewall", .roles = {}, .any_networked = true, .validate = ValidateTestFirewall});
  Status wg = registry.Add(KeyRule{
      .key = "wireguard",
      .roles = {qube::Role::kVpn},
      .any_networked = false,
      .validate = [](const Value& v, const SourcePos&) { return v.Expect(Value::Kind::kString); }});
  (void)fw;
  (void)wg;
  return registry;
}

}  // namespace qnet::config::testing
