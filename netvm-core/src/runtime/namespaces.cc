#include "qnet/runtime/namespaces.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <memory>
#include <optional>
#include <thread>

#include "qnet/base/log.h"

namespace qnet::runtime {
namespace {

struct NsKind {
  int flag;
  std::string_view name;
};

// The order namespaces are entered in: the mount namespace last, because
// entering it changes which /proc and which files the later steps would see.
constexpr std::array<NsKind, 6> kEnterOrder = {{
    {CLONE_NEWNET, "net"},
    {CLONE_NEWUTS, "uts"},
    {CLONE_NEWIPC, "ipc"},
    {CLONE_NEWCGROUP, "cgroup"},
    {CLONE_NEWPID, "pid"},
    {CLONE_NEWNS, "mnt"},
}};

constexpr std::array<std::string_view, 10> kOpenableTypes = {"net",
                                                             "mnt",
                                                             "uts",
                                                             "ipc",
                                                             "pid",
                                                             "cgroup",
                                                             "user",
                                                             "time",
                                                             "pid_for_children",
                                                             "time_for_children"};

constexpr int kCloneNamespaceFlags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID |
                                     CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWUSER;

// clone(2) needs a stack for the child; it is copied into the child (no
// CLONE_VM), so the parent unmaps its own right away. MAP_NORESERVE: only the
// pages the child touches cost memory.
constexpr size_t kCloneStackSize = 8 << 20;

// Stacked bind mounts of one pin are unmounted one by one; bounded in count.
constexpr int kMaxUnmounts = 16;

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

Status CheckType(std::string_view type) {
  if (std::find(kOpenableTypes.begin(), kOpenableTypes.end(), type) == kOpenableTypes.end())
    return Fail(Errc::kInvalidArgument, fmt::format("unknown namespace type '{}'", type));
  return OkStatus();
}

Result<std::string> ParentDir(std::string_view path) {
  size_t slash = path.rfind('/');
  if (path.empty() || path.front() != '/' || slash == path.size() - 1)
    return Fail(Errc::kInvalidArgument,
                fmt::format("namespace pin path '{}': want an absolute file path", path));
  return std::string(path.substr(0, slash == 0 ? 1 : slash));
}

// iproute2's recipe for /run/netns: a pin made under a shared mount also
// disappears from mount namespaces that copied it when it is unmounted, so
// the namespace really dies. Two racing callers may stack a second bind
// mount of the directory; that is harmless.
Status MakeSharedMountDir(const std::string& dir) {
  QNET_TRY(MakeDirs(dir));
  for (int attempt = 0;; ++attempt) {
    if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return OkStatus();
    if (errno != EINVAL || attempt > 0)
      return Fail(ErrnoError(fmt::format("make {} a shared mount", dir), errno));
    if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0)
      return Fail(ErrnoError(fmt::format("bind-mount {} onto itself", dir), errno));
  }
}

// Bind-mounts the namespace file `source` onto a new empty file at path.
Status PinPath(const std::string& source, std::string_view path_view) {
  std::string path(path_view);
  QNET_ASSIGN_OR_RETURN(std::string dir, ParentDir(path));
  QNET_TRY(MakeSharedMountDir(dir));
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrnoError(fmt::format("create namespace pin {}", path), errno));
  ::close(fd);
  if (::mount(source.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return Fail(ErrnoError(fmt::format("bind-mount {} onto {}", source, path), err));
  }
  return OkStatus();
}

int CloneChildMain(void* arg) {
  const auto* spec = static_cast<const CloneSpec*>(arg);
  int rc = 127;
  try {
    rc = spec->child_fn();
  } catch (...) {
    rc = 127;
  }
  ::_exit(rc);
}

}  // namespace

Result<UniqueFd> OpenNamespace(pid_t pid, std::string_view type) {
  QNET_TRY(CheckType(type));
  return OpenFd(fmt::format("/proc/{}/ns/{}", pid, type), O_RDONLY);
}

Result<ino_t> NamespaceInode(std::string_view path) {
  struct stat st {};
  std::string p(path);
  if (::stat(p.c_str(), &st) != 0) return Fail(ErrnoError(fmt::format("stat {}", p), errno));
  return st.st_ino;
}

Result<ino_t> NamespaceInodeOfFd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Fail(ErrnoError(fmt::format("fstat fd {}", fd), errno));
  return st.st_ino;
}

Status PinNamespace(pid_t pid, std::string_view type, std::string_view path) {
  QNET_TRY(CheckType(type));
  return PinPath(fmt::format("/proc/{}/ns/{}", pid, type), path);
}

Status UnpinNamespace(std::string_view path_view) {
  std::string path(path_view);
  for (int i = 0; i < kMaxUnmounts; ++i) {
    if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) break;  // not (or no longer) a mount point
    return Fail(ErrnoError(fmt::format("unmount namespace pin {}", path), errno));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Fail(ErrnoError(fmt::format("remove namespace pin {}", path), errno));
  return OkStatus();
}

Result<UniqueFd> CreatePinnedNetns(std::string_view path_view) {
  std::string path(path_view);
  // A thread of our own unshares, so no caller thread ever changes namespace
  // and nothing has to be restored; the thread's new namespace lives on in
  // the pin after it exits.
  Status pinned = Fail(Errc::kInternal, "unset");
  try {
    std::thread worker([&] {
      if (::unshare(CLONE_NEWNET) != 0) {
        pinned = Fail(ErrnoError("unshare(CLONE_NEWNET)", errno));
        return;
      }
      pinned = PinPath("/proc/thread-self/ns/net", path);
    });
    worker.join();
  } catch (const std::system_error& e) {
    return Fail(Errc::kUnavailable, fmt::format("create netns {}: thread: {}", path, e.what()));
  }
  if (!pinned) return Fail(pinned.error().Wrap(fmt::format("create netns {}", path)));
  auto fd = OpenFd(path, O_RDONLY);
  if (!fd) {
    (void)UnpinNamespace(path);
    return Fail(fd.error());
  }
  return fd;
}

// ---- PinnedNetns ----

Result<PinnedNetns> PinnedNetns::Create(std::string path) {
  QNET_ASSIGN_OR_RETURN(UniqueFd fd, CreatePinnedNetns(path));
  return PinnedNetns(std::move(path), std::move(fd));
}

PinnedNetns::~PinnedNetns() {
  Status s = Remove();
  if (!s) spdlog::warn("{}", s.error().message());
}

PinnedNetns& PinnedNetns::operator=(PinnedNetns&& o) noexcept {
  if (this != &o) {
    Status s = Remove();
    if (!s) spdlog::warn("{}", s.error().message());
    path_ = std::exchange(o.path_, {});
    fd_ = std::move(o.fd_);
  }
  return *this;
}

Status PinnedNetns::Remove() {
  fd_.reset();
  if (path_.empty()) return OkStatus();
  std::string path = std::exchange(path_, {});
  return UnpinNamespace(path);
}

std::string PinnedNetns::Release() {
  fd_.reset();
  return std::exchange(path_, {});
}

// ---- processes ----

Result<pid_t> CloneProcess(const CloneSpec& spec) {
  if ((spec.flags & ~kCloneNamespaceFlags) != 0)
    return Fail(Errc::kInvalidArgument,
                fmt::format("clone flags {:#x}: only CLONE_NEW* flags allowed", spec.flags));
  if (!spec.child_fn) return Fail(Errc::kInvalidArgument, "clone: no child function");
  void* stack = ::mmap(nullptr, kCloneStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
  if (stack == MAP_FAILED) return Fail(ErrnoError("clone: mmap stack", errno));
  char* stack_top = static_cast<char*>(stack) + kCloneStackSize;
  pid_t pid =
      ::clone(CloneChildMain, stack_top, spec.flags | SIGCHLD, const_cast<CloneSpec*>(&spec));
  int err = errno;
  ::munmap(stack, kCloneStackSize);
  if (pid < 0) return Fail(ErrnoError(fmt::format("clone(flags {:#x})", spec.flags), err));
  return pid;
}

Result<NamespaceSet> OpenNamespaces(pid_t pid, int flags) {
  int known = 0;
  for (const NsKind& k : kEnterOrder) known |= k.flag;
  if ((flags & ~known) != 0)
    return Fail(
        Errc::kInvalidArgument,
        fmt::format("enter namespaces of {}: unsupported flags {:#x}", pid, flags & ~known));
  NamespaceSet set;
  for (const NsKind& k : kEnterOrder) {
    if ((flags & k.flag) == 0) continue;
    QNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenNamespace(pid, k.name));
    set.entries.emplace_back(k.flag, std::move(fd));
  }
  return set;
}

Status EnterNamespaces(const NamespaceSet& set) {
  bool entered_mnt = false;
  for (const auto& [flag, fd] : set.entries) {
    if (::setns(fd.get(), flag) != 0)
      return Fail(ErrnoError(fmt::format("setns({:#x})", flag), errno));
    entered_mnt = entered_mnt || flag == CLONE_NEWNS;
  }
  if (entered_mnt && ::chdir("/") != 0) return Fail(ErrnoError("chdir /", errno));
  return OkStatus();
}

Status EnterNamespaces(pid_t pid, int flags) {
  QNET_ASSIGN_OR_RETURN(NamespaceSet set, OpenNamespaces(pid, flags));
  return EnterNamespaces(set);
}

Result<std::vector<pid_t>> PidsInNetns(ino_t netns_inode) {
  DirPtr dir(::opendir("/proc"));
  if (!dir) return Fail(ErrnoError("opendir /proc", errno));
  std::vector<pid_t> pids;
  while (const dirent* e = ::readdir(dir.get())) {
    std::string_view name(e->d_name);
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || end != name.data() + name.size() || pid <= 0) continue;
    struct stat st {};
    std::string ns = fmt::format("/proc/{}/ns/net", pid);
    // A process may exit or be unreadable mid-scan: it is simply not ours.
    if (::stat(ns.c_str(), &st) != 0) continue;
    if (st.st_ino == netns_inode) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

}  // namespace qnet::runtime
