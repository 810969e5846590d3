// Linux namespace primitives for the netns backend: open, pin (bind-mount)
// and unpin namespaces, create a bare pinned network namespace, start a
// process in new namespaces with clone(2), join another process's namespaces,
// and find the processes living in a network namespace.
//
// All functions need CAP_SYS_ADMIN (root) except OpenNamespace,
// NamespaceInode and PidsInNetns on one's own processes. Unless a comment says
// otherwise they are safe to call from any thread of a multi-threaded process
// and keep no state. Errors name the path or pid and carry the errno.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"

namespace qnet::runtime {

// Where `ip netns` and qnet pin named network namespaces.
inline constexpr std::string_view kNetnsRunDir = "/run/netns";

// An fd (O_RDONLY|O_CLOEXEC) of /proc/<pid>/ns/<type>, usable with setns(2)
// and Socket::OpenInNetns. type: "net", "mnt", "uts", "ipc", "pid", "cgroup",
// "user", "time" or "pid_for_children"; kInvalidArgument for anything else,
// kNotFound if the process is gone.
Result<UniqueFd> OpenNamespace(pid_t pid, std::string_view type);

// The inode number identifying the namespace at path (a /proc/<pid>/ns/<type>
// link or a pin), or of an open namespace fd. Two namespaces are the same iff
// their inodes are equal.
Result<ino_t> NamespaceInode(std::string_view path);
Result<ino_t> NamespaceInodeOfFd(int fd);

// Keeps the namespace /proc/<pid>/ns/<type> alive without any process by
// bind-mounting it onto path, as `ip netns add` does. Creates path's directory
// if needed and, like iproute2 does for /run/netns, makes that directory a
// shared mount (bind-mounting it onto itself first if it is not a mount
// point), so that unpinning later also removes copies that other mount
// namespaces made; pin into a dedicated directory such as kNetnsRunDir.
// Creates path as an empty file; kAlreadyExists if path exists already.
// On failure nothing is left behind.
Status PinNamespace(pid_t pid, std::string_view type, std::string_view path);
// Lazily unmounts (MNT_DETACH) and removes path. Idempotent: a missing or
// unmounted path is OK. The namespace itself dies once no process, fd or
// other mount holds it.
Status UnpinNamespace(std::string_view path);

// Creates a new network namespace with no process in it (containing only a
// DOWN "lo"), pinned at path (same rules as PinNamespace), and returns an fd
// of it. A short-lived helper thread unshares and pins, so the caller's
// threads never change namespace; safe in a multi-threaded process.
Result<UniqueFd> CreatePinnedNetns(std::string_view path);

// RAII owner of a network namespace created by CreatePinnedNetns: the
// destructor unpins it (errors logged, not returned). Movable, not copyable.
// Release() keeps the pin (for namespaces that must outlive the process).
class PinnedNetns {
 public:
  static Result<PinnedNetns> Create(std::string path);

  PinnedNetns() = default;
  ~PinnedNetns();
  PinnedNetns(PinnedNetns&& o) noexcept
      : path_(std::exchange(o.path_, {})), fd_(std::move(o.fd_)) {}
  PinnedNetns& operator=(PinnedNetns&& o) noexcept;
  PinnedNetns(const PinnedNetns&) = delete;
  PinnedNetns& operator=(const PinnedNetns&) = delete;

  const std::string& path() const { return path_; }
  // Valid while this object lives; usable with setns and Socket::OpenInNetns.
  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  // Unpins now; reports the error the destructor would swallow.
  Status Remove();
  // Forgets the pin without removing it; returns its path.
  std::string Release();

 private:
  PinnedNetns(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

// A child to start in new namespaces.
struct CloneSpec {
  // CLONE_NEW* flags only (CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUTS,
  // CLONE_NEWPID, CLONE_NEWIPC, CLONE_NEWCGROUP, CLONE_NEWUSER); any other
  // bit is kInvalidArgument. 0 is a plain fork.
  int flags = 0;
  // Runs in the child; its return value is the child's exit code (_exit). An
  // exception escaping it exits with 127.
  //
  // Constraints: the child is a copy of the calling thread only. If the
  // parent has other threads, locks they held (malloc, stdio, spdlog, fmt's
  // allocations) stay locked forever in the child, so child_fn must do only
  // async-signal-safe work: syscalls such as setns, mount, sethostname,
  // dup2, chdir, execve, _exit. Build argv/envp arrays, paths and fds in the
  // parent before CloneProcess and only use them in child_fn. Do not log,
  // allocate or throw there. With CLONE_NEWPID the child is pid 1 of the new
  // pid namespace: getpid() returns 1, and when it exits every process in
  // that namespace is killed. With CLONE_NEWNS its mounts start as a copy of
  // the parent's, propagation included (make / private before mounting).
  std::function<int()> child_fn;
};

// Starts spec.child_fn in a child created by clone(2) with spec.flags and
// SIGCHLD as exit signal. Returns the child's pid as the caller sees it. The
// caller owns the child and must reap it (e.g. wrap it in qnet::ChildProcess).
Result<pid_t> CloneProcess(const CloneSpec& spec);

// Namespace fds opened in advance, for a child that must not allocate.
class NamespaceSet {
 public:
  // (CLONE_NEW* flag, fd), in the order they will be entered.
  std::vector<std::pair<int, UniqueFd>> entries;
};

// Opens the namespaces of pid selected by flags (CLONE_NEW* as above, not
// CLONE_NEWUSER), ordered so that the mount namespace is entered last.
Result<NamespaceSet> OpenNamespaces(pid_t pid, int flags);
// setns(2) into each, then chdir("/") if the mount namespace was among them
// (the old cwd belongs to the previous mount tree). Allocation-free on
// success. Entering a mount namespace fails (EINVAL) in a multi-threaded
// process: call it in a forked/cloned child. CLONE_NEWPID takes effect for
// the caller's future children only. On error some namespaces may already
// have been entered.
Status EnterNamespaces(const NamespaceSet& set);
// OpenNamespaces + EnterNamespaces, for a single-threaded process (or a
// child forked from one); it allocates.
Status EnterNamespaces(pid_t pid, int flags);

// Every process (thread-group id) whose /proc/<pid>/ns/net has inode
// netns_inode, in ascending order. Processes that vanish or cannot be
// inspected during the scan are skipped; only the thread-group leader's
// namespace is checked (a thread that temporarily entered the namespace is
// not reported). The calling process is included if it matches.
Result<std::vector<pid_t>> PidsInNetns(ino_t netns_inode);

}  // namespace qnet::runtime
