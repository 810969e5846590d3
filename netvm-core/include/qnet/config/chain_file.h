// The chain file (TOML): parse it into a checked ChainSpec, write one back.
//
// Every function here is pure apart from ParseChainFile reading its file, and
// thread-safe as long as the registry is not being modified.
//
// Errors are kInvalidArgument (ReadFile's error for an unreadable file), and
// the first one found is reported, always the same for the same input:
//   <file>:<line>:<col>: <key path>: <message>
// e.g.
//   chains/x.toml:14:9: qube.work.netvm: unknown netvm 'sys-fw' (known: sys-firewall, sys-net)
// <file> is the path (or display_path) as given. Positions point at the value
// at fault, at the key for an unknown or misplaced key, at the table header
// for a missing key. A TOML syntax error reads
//   <file>:<line>:<col>: syntax error: <toml++'s description>
#pragma once

#include <string>
#include <string_view>

#include "qnet/base/result.h"
#include "qnet/config/chain_spec.h"
#include "qnet/config/key_registry.h"

namespace qnet::config {

// Parses and checks a chain file's text. display_path only names the file in
// errors and in ChainSpec::source_path. What is checked:
//  - the file is TOML; top-level tables are [chain], [lab] and [qube.*] only;
//  - [chain] exists with `name` (1..63 letters, digits, '_', '.', '-',
//    starting with a letter or digit) and optional `ipv6` = "off" (default)
//    | "routed";
//  - [lab], if present, has no keys (none are defined yet);
//  - each [qube.NAME]: NAME passes qube::ValidateQubeName; `role` (required)
//    and `label` (required) parse; `id` (optional) is an integer in
//    kMinQubeId..kMaxQubeId; `netvm` (optional) is a string; any other key is
//    a row of `registry` that allows the qube's role, and its validator
//    accepts the value; values are strings, integers, booleans, arrays or
//    tables (no floats or dates), with the type each key expects
//    ("expected a string, got integer");
//  - chain-wide: at least one qube and exactly one of role net; the net qube
//    has no netvm and every other qube has one; every netvm names a qube of
//    the chain whose role provides network; no netvm cycle (the message names
//    the qubes in it); explicit ids are unique.
// Qubes without `id` then get the lowest free ids >= 1, in file order.
Result<ChainSpec> ParseChainText(std::string_view text, std::string_view display_path,
                                 const KeyRegistry& registry);

// Reads path and parses it as ParseChainText (display path = path).
Result<ChainSpec> ParseChainFile(const std::string& path, const KeyRegistry& registry);

// Runs the chain-wide checks above (and each qube's Qube::Validate, and the
// registry's rules and validators on the role keys) on a spec built or
// edited in code, e.g. before `qnet save`. Positions in a spec built in code
// are unknown; errors then read "<key path>: <message>".
Status ValidateChainSpec(const ChainSpec& spec, const KeyRegistry& registry);

// Writes spec as a chain file: [chain], [lab] if present, then one
// [qube.NAME] per qube in order with role, label, id (only if id_explicit),
// netvm, then the role keys in order (arrays and tables written inline,
// strings escaped). ParseChainText of the result gives a spec equal to
// `spec` whenever spec is valid.
std::string FormatChainFile(const ChainSpec& spec);

// A key as TOML writes it: bare if it is [A-Za-z0-9_-]+, else a quoted
// string. Key paths in error messages use it too ("qube.\"my.vm\".netvm").
std::string FormatKey(std::string_view key);

}  // namespace qnet::config
