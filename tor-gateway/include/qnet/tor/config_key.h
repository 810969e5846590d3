// The chain file's per-qube key `tor` (role tor only): the Tor options a
// user may set, from an allow-list, named as in torrc:
//
//   [qube.sys-whonix]
//   role = "tor"
//   tor = { UseBridges = true,
//           ClientTransportPlugin = ["obfs4"],
//           Bridge = ["obfs4 198.51.100.7:443 <40 hex> cert=... iat-mode=0"],
//           ExitNodes = ["{de}", "$<40 hex>"], ExcludeNodes = ["{us}"],
//           EntryNodes = ["MyGuard"], StrictNodes = true, ClientUseIPv6 = false }
//
// Any other key is refused at that key, naming the allowed ones. Each
// value is parsed into torrc.h's types (never pasted into the torrc). Pure
// functions, thread-safe.
#pragma once

#include <string_view>

#include "qnet/base/result.h"
#include "qnet/config/key_registry.h"
#include "qnet/config/value.h"
#include "qnet/tor/torrc.h"

namespace qnet::tor {

inline constexpr std::string_view kTorKey = "tor";

// The options of a `tor` value, or kInvalidArgument naming the option
// (and element) at fault, with its position when known:
//   line 7 col 12: ExitNodes[1]: node '{xyz}': a country is two letters ...
//   MaxCircuitDirtiness: not an option qnet lets a chain file set (allowed: ...)
Result<TorOptions> TorOptionsFromValue(const config::Value& value);
Status ValidateTorKey(const config::Value& value, const config::SourcePos& key_pos);

// The value `qnet save` writes back; TorOptionsFromValue(TorOptionsToValue(o)) == o.
config::Value TorOptionsToValue(const TorOptions& options);

// The registry row: key `tor`, role tor only, validated by ValidateTorKey.
config::KeyRule TorKeyRule();

}  // namespace qnet::tor
