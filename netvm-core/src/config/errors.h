// How the config library words its errors (see chain_file.h).
#pragma once

#include <string>
#include <string_view>

#include "qnet/base/result.h"
#include "qnet/config/value.h"

namespace qnet::config::internal {

// "<pos>: <key_path>: <message>"; the position part is dropped when unknown,
// the file alone kept when only it is known.
Error ConfigError(const SourcePos& pos, std::string_view key_path, std::string_view message);

// "qube.<name>" or "qube.<name>.<key>", each part written as FormatKey does.
std::string QubeKeyPath(std::string_view qube, std::string_view key = {});

// key joined to a parent path ("chain" + "name" -> "chain.name").
std::string JoinKeyPath(std::string_view parent, std::string_view key);

// "a, b, c".
template <typename Range>
std::string JoinNames(const Range& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace qnet::config::internal
