#include "qnet/vpn/config_key.h"

namespace qnet::vpn {

Status ValidateWireguardKey(const config::Value& value, const config::SourcePos& key_pos) {
  if (!value.is_string())
    return Fail(Errc::kInvalidArgument,
                fmt::format("{}: wireguard: expected a string (\"lab\" or a wg-quick file), got {}",
                            key_pos.ToString(), config::KindName(value.kind())));
  if (value.as_string().empty())
    return Fail(Errc::kInvalidArgument,
                fmt::format("{}: wireguard: empty (use \"lab\" or a wg-quick file)",
                            key_pos.ToString()));
  return OkStatus();
}

config::KeyRule WireguardKeyRule() {
  return config::KeyRule{.key = std::string(kWireguardKey),
                         .roles = {qube::Role::kVpn},
                         .validate = ValidateWireguardKey};
}

}  // namespace qnet::vpn
