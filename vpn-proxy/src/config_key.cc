#include "qnet/vpn/config_key.h"

namespace qnet::vpn {

// config prefixes the key's position and path to these messages.
Status ValidateWireguardKey(const config::Value& value, const config::SourcePos&) {
  if (!value.is_string())
    return Fail(Errc::kInvalidArgument,
                fmt::format("expected a string (\"lab\" or a wg-quick file), got {}",
                            config::KindName(value.kind())));
  if (value.as_string().empty())
    return Fail(Errc::kInvalidArgument, "empty (use \"lab\" or a wg-quick file)");
  return OkStatus();
}

config::KeyRule WireguardKeyRule() {
  return config::KeyRule{.key = std::string(kWireguardKey),
                         .roles = {qube::Role::kVpn},
                         .validate = ValidateWireguardKey};
}

Status ValidateBackendKey(const config::Value& value, const config::SourcePos&) {
  if (!value.is_string() || (value.as_string() != "kernel" && value.as_string() != "userspace"))
    return Fail(Errc::kInvalidArgument,
                fmt::format("expected \"kernel\" or \"userspace\" (leave it out for automatic), "
                            "got {}",
                            value.is_string() ? fmt::format("\"{}\"", value.as_string())
                                              : std::string(config::KindName(value.kind()))));
  return OkStatus();
}

config::KeyRule BackendKeyRule() {
  return config::KeyRule{.key = std::string(kBackendKeyName),
                         .roles = {qube::Role::kVpn},
                         .validate = ValidateBackendKey};
}

}  // namespace qnet::vpn
