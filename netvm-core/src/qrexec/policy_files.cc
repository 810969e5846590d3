// FilesystemPolicySource: the only part of the policy engine that touches
// the filesystem (policy.h).
#include <fmt/format.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "qnet/qrexec/policy.h"

namespace qnet::qrexec {
namespace {

// A policy file larger than this is a mistake, not a policy.
constexpr std::uintmax_t kMaxPolicyFileBytes = 16 * 1024 * 1024;

Error FsError(const std::string& path, const std::error_code& ec) {
  Errc code = ec == std::errc::no_such_file_or_directory ? Errc::kNotFound : Errc::kIo;
  return Error(code, fmt::format("{}: {}", path, ec.message()), ec.value());
}

}  // namespace

Result<std::string> FilesystemPolicySource::ReadFile(const std::string& path) const {
  std::error_code ec;
  std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return FsError(path, ec);
  if (size > kMaxPolicyFileBytes) {
    return Error(Errc::kInvalidArgument, fmt::format("{}: {} bytes, a policy file may have {}",
                                                     path, size, kMaxPolicyFileBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Errc::kIo, fmt::format("{}: cannot open", path), errno);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<std::vector<std::string>> FilesystemPolicySource::ListDir(const std::string& path) const {
  std::error_code ec;
  std::filesystem::directory_iterator it(path, ec);
  if (ec) return FsError(path, ec);
  std::vector<std::string> names;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) names.push_back(it->path().filename().string());
  }
  if (ec) return FsError(path, ec);
  return names;
}

}  // namespace qnet::qrexec
