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

}  // namespace qnet::vpn
