// ReadToml: the only place that sees toml++. Turns a TOML document into a
// table Value whose nodes keep their positions, tables' members in file order.
#pragma once

#include <string_view>

#include "qnet/base/result.h"
#include "qnet/config/value.h"

namespace qnet::config::internal {

// Parses text (named display_path in positions and errors). Errors:
//   <file>:<line>:<col>: syntax error: <toml++'s description>
//   <file>:<line>:<col>: <key path>: unsupported value type floating-point (...)
Result<Value> ReadToml(std::string_view text, std::string_view display_path);

}  // namespace qnet::config::internal
