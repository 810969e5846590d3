#include "qnet/runtime/qube_view.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "qnet/base/log.h"
#include "qnet/runtime/id_range.h"
#include "qnet/runtime/namespaces.h"

namespace qnet::runtime {
namespace {

namespace fs = std::filesystem;

// A child that reports one line of error text (empty: success) through a
// pipe, then waits until the parent has opened its namespace.
struct Handshake {
  int report[2] = {-1, -1};
  int release[2] = {-1, -1};
};

Status OpenPipes(Handshake& h) {
  if (::pipe2(h.report, O_CLOEXEC) != 0 || ::pipe2(h.release, O_CLOEXEC) != 0)
    return Fail(ErrnoError("pipe2", errno));
  return OkStatus();
}

void ClosePipes(Handshake& h) {
  for (int* p : {h.report, h.release})
    for (int i = 0; i < 2; ++i)
      if (p[i] >= 0) ::close(std::exchange(p[i], -1));
}

[[noreturn]] void ChildReport(Handshake& h, const std::string& error) {
  std::string line = error + "\n";
  (void)!::write(h.report[1], line.data(), line.size());
  ::close(h.report[1]);
  char c;
  (void)!::read(h.release[0], &c, 1);  // EOF when the parent is done with us
  ::_exit(error.empty() ? 0 : 1);
}

// Runs fn in a forked child; returns an fd of the child's namespace `ns`
// once fn succeeded. `between` runs in the parent after the child reported
// success and before the namespace is opened (e.g. writing id maps).
template <typename Fn, typename Between>
Result<UniqueFd> InChild(std::string_view what, std::string_view ns, Fn fn, Between between) {
  Handshake h;
  if (Status s = OpenPipes(h); !s) {
    ClosePipes(h);
    return Fail(s.error());
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ClosePipes(h);
    return Fail(ErrnoError(fmt::format("{}: fork", what), errno));
  }
  if (pid == 0) {
    ::close(h.report[0]);
    ::close(h.release[1]);
    Status s = fn();
    ChildReport(h, s ? std::string() : s.error().message());
  }
  ::close(std::exchange(h.report[1], -1));
  ::close(std::exchange(h.release[0], -1));
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(h.report[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.back() == '\n') break;
  }
  Result<UniqueFd> out = Fail(Errc::kInternal, "unset");
  if (text.empty()) {
    out = Fail(Errc::kInternal, fmt::format("{}: child died", what));
  } else if (text != "\n") {
    text.pop_back();
    out = Fail(Errc::kIo, fmt::format("{}: {}", what, text));
  } else if (Status b = between(pid); !b) {
    out = Fail(b.error().Wrap(std::string(what)));
  } else {
    out = OpenNamespace(pid, ns);
  }
  ClosePipes(h);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return out;
}

Status Mount(const std::string& src, const std::string& target, const char* type,
             unsigned long flags, const std::string& data = {}) {
  if (::mount(src.empty() ? nullptr : src.c_str(), target.c_str(), type, flags,
              data.empty() ? nullptr : data.c_str()) != 0)
    return Fail(ErrnoError(fmt::format("mount {} on {}", type ? type : src, target), errno));
  return OkStatus();
}

Status Mkdir(const std::string& path, mode_t mode = 0755) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    return Fail(ErrnoError(fmt::format("mkdir {}", path), errno));
  return OkStatus();
}

Status Chown(const std::string& path, uint32_t id) {
  if (::chown(path.c_str(), id, id) != 0)
    return Fail(ErrnoError(fmt::format("chown {}", path), errno));
  return OkStatus();
}

Status Tmpfs(const std::string& target, uint32_t owner, std::string_view mode,
             std::string_view size, unsigned long flags = MS_NOSUID | MS_NODEV) {
  return Mount("tmpfs", target, "tmpfs", flags,
               fmt::format("mode={},uid={},gid={},size={}", mode, owner, owner, size));
}

// A detached copy of the tree at dir_fd. Taken before the builder leaves the
// caller's mount namespace: a path opened there cannot be bound from the new
// one, a detached tree can.
Result<UniqueFd> CloneTree(int dir_fd, std::string_view what) {
  int tree = static_cast<int>(
      ::open_tree(dir_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (tree < 0) return Fail(ErrnoError(fmt::format("open_tree {}", what), errno));
  return UniqueFd(tree);
}

// Sets attributes on a detached tree (with MOUNT_ATTR_IDMAP: on-disk id k
// appears as the qube's id k, host id id_base + k) and attaches it at target.
Status AttachTree(const UniqueFd& tree, uint64_t attrs, int userns_fd, const std::string& target) {
  struct mount_attr attr {};
  attr.attr_set = attrs;
  if (attrs & MOUNT_ATTR_IDMAP) attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
    return Fail(ErrnoError(fmt::format("mount_setattr({:#x}) for {}", attrs, target), errno));
  if (::move_mount(tree.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return Fail(ErrnoError(fmt::format("move_mount onto {}", target), errno));
  return OkStatus();
}

// Overlay at target: lower = idmapped dir_fd, upper/work on the stage tmpfs.
// The upper root belongs to the qube's root, so the overlay's root does too.
Status PrivateOverlay(const std::string& stage, const std::string& name, const UniqueFd& tree,
                      int userns_fd, uint32_t base, const std::string& target) {
  std::string lower = stage + "/lower-" + name, upper = stage + "/upper-" + name,
              work = stage + "/work-" + name;
  for (const auto& d : {lower, upper, work}) QNET_TRY(Mkdir(d));
  QNET_TRY(Chown(upper, base));
  QNET_TRY(
      AttachTree(tree, MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, userns_fd, lower));
  return Mount("overlay", target, "overlay", MS_NODEV,
               fmt::format("lowerdir={},upperdir={},workdir={}", lower, upper, work));
}

Status BindDevice(const std::string& root, const char* name) {
  std::string target = root + "/dev/" + name;
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(ErrnoError(fmt::format("create {}", target), errno));
  ::close(fd);
  return Mount(fmt::format("/dev/{}", name), target, nullptr, MS_BIND);
}

Status Symlink(const char* to, const std::string& at) {
  if (::symlink(to, at.c_str()) != 0 && errno != EEXIST)
    return Fail(ErrnoError(fmt::format("symlink {}", at), errno));
  return OkStatus();
}

// The host's /bin, /sbin, /lib* as they are: links are copied, directories
// bound read-only.
Status HostSystemLinks(const std::string& root) {
  for (const char* name : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    std::string host = fmt::format("/{}", name), at = root + host;
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      std::array<char, 256> buf{};
      ssize_t n = ::readlink(host.c_str(), buf.data(), buf.size() - 1);
      if (n <= 0) return Fail(ErrnoError(fmt::format("readlink {}", host), errno));
      QNET_TRY(Symlink(buf.data(), at));
    } else if (S_ISDIR(st.st_mode)) {
      QNET_TRY(Mkdir(at));
      QNET_TRY(Mount(host, at, nullptr, MS_BIND | MS_REC));
      QNET_TRY(Mount("", at, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV));
    }
  }
  return OkStatus();
}

Status MinimalDev(const std::string& root, uint32_t base, bool tun) {
  std::string dev = root + "/dev";
  QNET_TRY(Mkdir(dev));
  QNET_TRY(Tmpfs(dev, base, "0755", "64k", MS_NOSUID | MS_NOEXEC));
  for (const char* d : {"null", "zero", "full", "random", "urandom", "tty"})
    QNET_TRY(BindDevice(root, d));
  if (tun) {
    // A node of its own, owned by the qube's root (the host's is often 0600
    // root, over which the qube's root has no DAC override). Opening it
    // gives nothing by itself: a TUN device needs CAP_NET_ADMIN over the
    // network namespace, which the qube's root holds only in a namespace
    // its own user namespace owns (a supervised service's).
    QNET_TRY(Mkdir(dev + "/net"));
    const std::string node = dev + "/net/tun";
    if (::mknod(node.c_str(), S_IFCHR | 0600, ::makedev(10, 200)) != 0)
      return Fail(ErrnoError(fmt::format("mknod {}", node), errno));
    if (::chown(node.c_str(), base, base) != 0)
      return Fail(ErrnoError(fmt::format("chown {}", node), errno));
  }
  QNET_TRY(Mkdir(dev + "/pts"));
  QNET_TRY(Mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                 fmt::format("newinstance,ptmxmode=0666,mode=0620,gid={}", base + 5)));
  QNET_TRY(Symlink("pts/ptmx", dev + "/ptmx"));
  QNET_TRY(Mkdir(dev + "/shm"));
  QNET_TRY(Tmpfs(dev + "/shm", base, "1777", "64m"));
  QNET_TRY(Mkdir(dev + "/mqueue"));
  QNET_TRY(Mount("mqueue", dev + "/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  QNET_TRY(Symlink("/proc/self/fd", dev + "/fd"));
  QNET_TRY(Symlink("/proc/self/fd/0", dev + "/stdin"));
  QNET_TRY(Symlink("/proc/self/fd/1", dev + "/stdout"));
  QNET_TRY(Symlink("/proc/self/fd/2", dev + "/stderr"));
  return OkStatus();
}

Status PivotInto(const std::string& root) {
  if (::chdir(root.c_str()) != 0) return Fail(ErrnoError("chdir new root", errno));
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return Fail(ErrnoError("pivot_root", errno));
  // The old root is stacked under the new one: detach it and every host
  // mount with it.
  if (::umount2(".", MNT_DETACH) != 0) return Fail(ErrnoError("detach old root", errno));
  if (::chdir("/") != 0) return Fail(ErrnoError("chdir /", errno));
  return OkStatus();
}

struct Trees {
  UniqueFd root, usr, etc, home;
};

Result<Trees> CloneTrees(const QubeViewSpec& spec) {
  Trees t;
  QNET_ASSIGN_OR_RETURN(t.home, CloneTree(spec.home_fd, "home"));
  if (spec.template_fd >= 0) {
    QNET_ASSIGN_OR_RETURN(t.root, CloneTree(spec.template_fd, "template"));
    return t;
  }
  QNET_ASSIGN_OR_RETURN(t.etc, CloneTree(spec.etc_fd, "etc"));
  UniqueFd usr(::open("/usr", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!usr) return Fail(ErrnoError("open /usr", errno));
  QNET_ASSIGN_OR_RETURN(t.usr, CloneTree(usr.get(), "/usr"));
  return t;
}

// Host root has no id on a writable template's idmapped mount (creating a
// file there fails with EOVERFLOW): while the builder changes that tree it
// acts as the qube's root (host id base), whose files are on-disk root's.
class QubeFsIds {
 public:
  QubeFsIds(bool on, uint32_t base) : on_(on) {
    if (!on_) return;
    ::setfsgid(base);
    ::setfsuid(base);
  }
  ~QubeFsIds() {
    if (!on_) return;
    ::setfsuid(0);
    ::setfsgid(0);
  }
  QubeFsIds(const QubeFsIds&) = delete;
  QubeFsIds& operator=(const QubeFsIds&) = delete;

 private:
  bool on_;
};

Status BuildView(const QubeViewSpec& spec, int userns_fd) {
  const uint32_t base = spec.id_base;
  QNET_ASSIGN_OR_RETURN(Trees trees, CloneTrees(spec));
  if (::unshare(CLONE_NEWNS) != 0) return Fail(ErrnoError("unshare(CLONE_NEWNS)", errno));
  QNET_TRY(Mount("", "/", nullptr, MS_REC | MS_PRIVATE));
  const std::string& stage = spec.stage_dir;
  const bool writable = spec.template_fd >= 0 && spec.template_writable;
  // 0711 for a writable template: the builder crosses it as the qube's root
  // (QubeFsIds). The stage lives only in this mount namespace either way.
  QNET_TRY(Tmpfs(stage, 0, writable ? "0711" : "0700", "1g"));
  const std::string root = stage + "/root";
  QNET_TRY(Mkdir(root));
  {
    const QubeFsIds fs_ids(writable, base);
    if (spec.template_fd >= 0) {
      if (spec.template_writable) {
        QNET_TRY(AttachTree(trees.root, MOUNT_ATTR_IDMAP | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID,
                            userns_fd, root));
      } else {
        QNET_TRY(PrivateOverlay(stage, "root", trees.root, userns_fd, base, root));
      }
      // The qube's DNS and name come from the agent, as with the host template
      // (an overlay keeps the change in its private upper layer, a template
      // qube in the tree, which then links to the agent's files for every qube).
      QNET_TRY(Mkdir(root + "/etc"));
      for (const char* f : {"resolv.conf", "hostname"}) {
        std::string at = root + "/etc/" + f;
        if (::unlink(at.c_str()) != 0 && errno != ENOENT)
          return Fail(ErrnoError(fmt::format("replace {}", at), errno));
        QNET_TRY(Symlink(fmt::format("/run/qnet-qube/{}", f).c_str(), at));
      }
    } else {
      QNET_TRY(Tmpfs(root, base, "0755", "16m"));
      QNET_TRY(Mkdir(root + "/usr"));
      QNET_TRY(PrivateOverlay(stage, "usr", trees.usr, userns_fd, base, root + "/usr"));
      QNET_TRY(HostSystemLinks(root));
      QNET_TRY(Mkdir(root + "/etc"));
      QNET_TRY(PrivateOverlay(stage, "etc", trees.etc, userns_fd, base, root + "/etc"));
    }
    for (const char* d :
         {"/home", "/home/user", "/tmp", "/var", "/var/tmp", "/run", "/proc", "/sys", "/dev"})
      QNET_TRY(Mkdir(root + d));
    // Owned by the qube's root, as a root filesystem's directories are.
    for (const char* d : {"/home", "/var"}) QNET_TRY(Chown(root + d, base));
  }
  QNET_TRY(AttachTree(trees.home, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, -1, root + "/home/user"));
  QNET_TRY(Tmpfs(root + "/tmp", base, "1777", "256m"));
  QNET_TRY(Tmpfs(root + "/var/tmp", base, "1777", "256m"));
  QNET_TRY(Tmpfs(root + "/run", base, "0755", "16m"));
  QNET_TRY(Mkdir(root + "/run/qnet-qube"));
  QNET_TRY(Mount(spec.run_share, root + "/run/qnet-qube", nullptr, MS_BIND));
  QNET_TRY(Mount("", root + "/run/qnet-qube", nullptr,
                 MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
  QNET_TRY(MinimalDev(root, base, spec.tun));
  QNET_TRY(Mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  QNET_TRY(Mount("sysfs", root + "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY));
  return PivotInto(root);
}

Status WriteMaps(pid_t pid, uint32_t base) {
  std::string map = fmt::format("0 {} {}\n", base, kQubeIdCount);
  QNET_TRY(WriteFile(fmt::format("/proc/{}/uid_map", pid), map));
  return WriteFile(fmt::format("/proc/{}/gid_map", pid), map);
}

}  // namespace

Result<UniqueFd> CreateQubeUserns(uint32_t id_base) {
  return InChild(
      "create the qube's user namespace", "user",
      []() -> Status {
        if (::unshare(CLONE_NEWUSER) != 0) return Fail(ErrnoError("unshare(CLONE_NEWUSER)", errno));
        return OkStatus();
      },
      [id_base](pid_t pid) { return WriteMaps(pid, id_base); });
}

Result<UniqueFd> BuildQubeView(const QubeViewSpec& spec, int userns_fd) {
  if (spec.template_fd < 0 && spec.etc_fd < 0)
    return Fail(Errc::kInvalidArgument, "qube view: no /etc for the host template");
  return InChild(
      "build the qube's view", "mnt", [&]() { return BuildView(spec, userns_fd); },
      [](pid_t) { return OkStatus(); });
}

int EnterQubeUserSide(int view_fd, int userns_fd, const QubeUser& user) {
  if (::setns(view_fd, CLONE_NEWNS) != 0 || ::chdir("/") != 0) return -1;
  if (::setns(userns_fd, CLONE_NEWUSER) != 0) return -1;
  // setns left our host ids (unmapped here); become the qube's root first so
  // that leaving it for another id clears the capabilities as usual.
  if (::setgroups(0, nullptr) != 0 || ::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0)
    return -1;
  if (!user.keep_caps) {
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return -1;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return -1;
  }
  if (::setresgid(user.gid, user.gid, user.gid) != 0) return -1;
  if (::setresuid(user.uid, user.uid, user.uid) != 0) return -1;
  if (!user.keep_caps) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capset, &hdr, data) != 0) return -1;
  }
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

}  // namespace qnet::runtime
