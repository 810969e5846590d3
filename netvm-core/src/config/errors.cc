#include "errors.h"

#include <fmt/format.h>

#include "qnet/config/chain_file.h"

namespace qnet::config::internal {

Error ConfigError(const SourcePos& pos, std::string_view key_path, std::string_view message) {
  std::string where = pos.ToString();
  if (where.empty()) {
    return Error(Errc::kInvalidArgument, fmt::format("{}: {}", key_path, message));
  }
  return Error(Errc::kInvalidArgument, fmt::format("{}: {}: {}", where, key_path, message));
}

std::string JoinKeyPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return FormatKey(key);
  return fmt::format("{}.{}", parent, FormatKey(key));
}

std::string QubeKeyPath(std::string_view qube, std::string_view key) {
  std::string path = JoinKeyPath("qube", qube);
  return key.empty() ? path : JoinKeyPath(path, key);
}

}  // namespace qnet::config::internal
