// The vpn role's key in the chain file: `wireguard = "lab"` (the lab's own
// WireGuard server) or the path of a wg-quick file.
#pragma once

#include <string_view>

#include "qnet/config/key_registry.h"

namespace qnet::vpn {

inline constexpr std::string_view kWireguardKey = "wireguard";

// Accepts "lab" or an absolute or relative path to a wg-quick file; the
// file itself is read when the chain comes up.
Status ValidateWireguardKey(const config::Value& value, const config::SourcePos& key_pos);

config::KeyRule WireguardKeyRule();

// `backend = "kernel" | "userspace"` forces a WireGuard backend (default:
// kernel when the kernel can make a wireguard link, else userspace).
inline constexpr std::string_view kBackendKeyName = "backend";
Status ValidateBackendKey(const config::Value& value, const config::SourcePos& key_pos);
config::KeyRule BackendKeyRule();

}  // namespace qnet::vpn
