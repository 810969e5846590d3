// Kernel parameters under /proc/sys, with helpers for per-interface knobs.
//
// Which network namespace a net/ key belongs to: the one of the CALLING
// THREAD at the time the file is opened. /proc/sys/net is resolved per task
// (the kernel's net sysctl root looks up current->nsproxy->net_ns on every
// lookup, and its dentries are only reused within the same namespace), so a
// thread that did setns(CLONE_NEWNET) (netlink::RunInNetns) reads and writes
// that namespace's values, whatever /proc mount it goes through. This is
// verified by tests/netns/netlink (SysctlTest.*). Contrast /proc/net, a
// symlink to /proc/self/net, which follows the thread-group leader: use
// /proc/thread-self/net from a thread in another namespace.
//
// Keys are relative paths with '/' separators, e.g. "net/ipv4/ip_forward" or
// "net/ipv4/conf/vif5.0/proxy_arp" (interface names keep their dots; no
// translation as sysctl(8) does). Functions are thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "qnet/base/result.h"

namespace qnet::netlink {

// Accepts a relative key: non-empty, no leading '/', no empty, "." or ".."
// components, no NUL or whitespace, at most 4096 bytes. kInvalidArgument
// naming the key otherwise.
Status ValidateSysctlKey(std::string_view key);
// "/proc/sys/" + key after validation.
Result<std::string> SysctlPath(std::string_view key);

// Writes value (a newline is not required) to /proc/sys/<key> in the calling
// thread's network namespace for net/ keys. Errors: kInvalidArgument (bad
// key), kNotFound (no such knob, e.g. the interface is gone), kPermissionDenied,
// kIo; the message names the key.
Status SetSysctl(std::string_view key, std::string_view value);
// The value with trailing newlines removed.
Result<std::string> GetSysctl(std::string_view key);

// The key net/<family>/conf/<ifname>/<knob>; family is "ipv4" or "ipv6",
// ifname may also be "all" or "default". kInvalidArgument for another family,
// a bad interface name or a knob containing '/'.
Result<std::string> IfSysctlKey(std::string_view family, std::string_view ifname,
                                std::string_view knob);
// SetSysctl(IfSysctlKey(...), value), e.g. ("ipv6", "eth0", "disable_ipv6",
// "1") or ("ipv4", "vif5.0", "proxy_arp", "1").
Status SetIfSysctl(std::string_view family, std::string_view ifname, std::string_view knob,
                   std::string_view value);
Result<std::string> GetIfSysctl(std::string_view family, std::string_view ifname,
                                std::string_view knob);

// The same in the network namespace netns_fd refers to, from any thread:
// the calling thread enters it for the call and returns (RunInNetns).
Status SetSysctlInNetns(int netns_fd, std::string_view key, std::string_view value);
Result<std::string> GetSysctlInNetns(int netns_fd, std::string_view key);

}  // namespace qnet::netlink
