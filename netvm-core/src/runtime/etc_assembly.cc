// The /etc of the host template: the host's, minus every secret.
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <string_view>

#include "qnet/base/fd.h"
#include "qnet/runtime/qube_view.h"

namespace qnet::runtime {
namespace {

namespace fs = std::filesystem;

// Paths under /etc never copied, whatever their mode: credentials, host
// identity, and what qnet writes itself.
constexpr std::array<std::string_view, 18> kNeverCopied = {
    "shadow",  "shadow-", "gshadow", "gshadow-",  "passwd",      "passwd-",
    "group",   "group-",  "sudoers", "sudoers.d", "machine-id",  "subuid",
    "subuid-", "subgid",  "subgid-", "ssh",       "resolv.conf", "hostname"};

constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "user:x:1000:1000:user:/home/user:/bin/bash\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
constexpr std::string_view kGroup = "root:x:0:\ntty:x:5:\nuser:x:1000:\nnogroup:x:65534:\n";

bool Skipped(const fs::path& rel, const struct stat& st) {
  if (rel.begin() != rel.end()) {
    std::string first = rel.begin()->string();
    for (std::string_view n : kNeverCopied)
      if (first == n) return true;
  }
  // Only what every local user may read anyway.
  if (S_ISDIR(st.st_mode)) return (st.st_mode & S_IROTH) == 0 || (st.st_mode & S_IXOTH) == 0;
  if (S_ISREG(st.st_mode)) return (st.st_mode & S_IROTH) == 0;
  return !S_ISLNK(st.st_mode);  // no sockets, fifos, devices
}

Status CopyTree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::recursive_directory_iterator it(from, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Fail(Errc::kIo, fmt::format("read {}: {}", from.string(), ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Fail(Errc::kIo, fmt::format("read {}: {}", from.string(), ec.message()));
    const fs::path& p = it->path();
    fs::path rel = p.lexically_relative(from);
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (Skipped(rel, st)) {
      if (S_ISDIR(st.st_mode)) it.disable_recursion_pending();
      continue;
    }
    fs::path dst = to / rel;
    if (S_ISDIR(st.st_mode)) {
      fs::create_directory(dst, ec);
      ::chmod(dst.c_str(), st.st_mode & 07777);
    } else if (S_ISLNK(st.st_mode)) {
      fs::copy_symlink(p, dst, ec);
    } else {
      fs::copy_file(p, dst, ec);
    }
    if (ec) return Fail(Errc::kIo, fmt::format("copy {}: {}", p.string(), ec.message()));
  }
  return OkStatus();
}

}  // namespace

Status AssembleEtc(const std::string& host_etc, const std::string& dest) {
  std::error_code ec;
  if (fs::exists(dest, ec)) return OkStatus();
  const std::string tmp = fmt::format("{}.tmp-{}", dest, ::getpid());
  fs::remove_all(tmp, ec);
  QNET_TRY(MakeDirs(tmp, 0755));
  Status s = CopyTree(host_etc, tmp);
  if (s) s = WriteFile(tmp + "/passwd", kPasswd, 0644);
  if (s) s = WriteFile(tmp + "/group", kGroup, 0644);
  if (s && ::symlink("/run/qnet-qube/resolv.conf", (tmp + "/resolv.conf").c_str()) != 0)
    s = Fail(ErrnoError("symlink resolv.conf", errno));
  if (s && ::symlink("/run/qnet-qube/hostname", (tmp + "/hostname").c_str()) != 0)
    s = Fail(ErrnoError("symlink hostname", errno));
  if (s && ::rename(tmp.c_str(), dest.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST)
    s = Fail(ErrnoError(fmt::format("rename {} to {}", tmp, dest), errno));
  fs::remove_all(tmp, ec);
  if (!s) return Fail(s.error().Wrap("assemble the qubes' /etc"));
  return OkStatus();
}

}  // namespace qnet::runtime
