// A qube's user side on the netns backend: its user namespace and the mount
// namespace it sees (its "view").
//
// The privileged side (the qube's init and agent, host root in the host user
// namespace) builds both. The view is a mount namespace owned by the host
// user namespace: root in the qube (host id `id_base`) holds no capability
// over it, so it can neither mount nor unmount there, and a mount namespace
// it creates with `unshare -m` copies every mount locked (MNT_LOCKED).
//
// Layout of the view (host template):
//   /            tmpfs owned by the qube's root, changes discarded at stop
//   /usr         overlay: lower = host /usr (idmapped to the qube's range),
//                upper = private tmpfs
//   /bin,/sbin,/lib*  the host's symlinks (or read-only binds)
//   /etc         overlay: lower = the instance's assembled /etc (idmapped),
//                upper = private tmpfs
//   /home/user   bind of the qube's persistent home
//   /tmp /var/tmp /dev/shm /run  private tmpfs; /run/qnet-qube read-only
//                bind of the agent's (resolv.conf, hostname)
//   /dev         tmpfs with null zero full random urandom tty bound from the
//                host, devpts (newinstance), mqueue; net/tun when asked
//   /proc        the qube's pid namespace; /sys read-only
// With a template directory, / itself is an overlay of it (idmapped) and
// /usr, /etc and the links come from the template; with template_writable,
// / is the tree itself, idmapped (on-disk id k is the qube's id k).
//
// These functions fork; call them from a single-threaded process (the
// qube's init). Errors name the step and carry the errno.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"

namespace qnet::runtime {

struct QubeViewSpec {
  uint32_t id_base = 0;
  int etc_fd = -1;       // O_PATH dir: the assembled /etc (host template)
  int home_fd = -1;      // O_PATH dir: the persistent home, owned by id_base+1000
  int template_fd = -1;  // O_PATH dir of a root tree, or -1 for the host template
  // The tree itself, idmapped and writable, is / (a template qube: its
  // changes persist in the tree); otherwise / is an overlay whose private
  // upper layer is discarded at stop.
  bool template_writable = false;
  std::string run_share;  // dir in the caller's view shown read-only at /run/qnet-qube
  std::string stage_dir;  // an empty dir in the caller's private mount tree
  bool tun = false;       // /dev/net/tun (vpn qubes)
};

// A new user namespace owned by the caller's, mapping ids 0..65535 to
// [id_base, id_base + 65536) for both uids and gids; the fd keeps it alive.
Result<UniqueFd> CreateQubeUserns(uint32_t id_base);

// Builds the view described above in a new mount namespace (owned by the
// caller's user namespace) and returns an fd of it; the namespace lives as
// long as that fd or a process in it. The caller's own mounts are untouched.
Result<UniqueFd> BuildQubeView(const QubeViewSpec& spec, int userns_fd);

// Copies host_etc to dest once (nothing if dest exists) without secrets:
// only world-readable files and directories, never shadow/gshadow, sudoers,
// ssh host keys, machine-id or subuid/subgid; passwd and group are qnet's
// own (root, user 1000, nobody); resolv.conf and hostname link to
// /run/qnet-qube. Built beside dest and renamed into place.
Status AssembleEtc(const std::string& host_etc, const std::string& dest);

// Who a process on the qube's user side runs as.
struct QubeUser {
  uid_t uid = 1000;  // qube ids
  gid_t gid = 1000;
  bool keep_caps = false;  // root: keeps its capabilities in the qube's user namespace
};

// In a freshly forked child of the privileged side: enters the view (mount
// namespace) and then the qube's user namespace, becomes `user`, clears the
// bounding and ambient sets unless keep_caps, sets no_new_privs. Returns 0 or
// -1 with errno set. Allocation-free (async-signal-safe).
int EnterQubeUserSide(int view_fd, int userns_fd, const QubeUser& user);

}  // namespace qnet::runtime
