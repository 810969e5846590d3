// What a qube's init needs from qnetd to build the qube's containment (its
// host id range and the host directories its view is built from), and how
// it travels: in a sealed memfd the init reads and closes, never on a
// command line. Every process in the qube's pid namespace may read every
// /proc/N/cmdline there, the init's and the agent's included, and those
// paths are the host's layout.
//
// Wire format: one "key=value" line each for id_base, home, etc and
// template (absent: empty), and template_mode=writable for a template qube;
// a value holds no newline and no NUL. Pure
// except ContainmentFd and ReadContainment. Errors name the line and key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"

namespace qnet::runtime {

struct Containment {
  uint32_t id_base = 0;      // first host id of the qube's range; never 0
  std::string home_dir;      // persistent home, bound at /home/user
  std::string etc_dir;       // the instance's assembled /etc (host template)
  std::string template_dir;  // a root tree; empty: the host template
  // The tree itself is the qube's writable / (`qnet template run`); the
  // line "template_mode=writable" is written only then.
  bool template_writable = false;
};

std::string FormatContainment(const Containment& c);
// kInvalidArgument for an unknown key, a malformed line, id_base missing or
// 0, a relative path, or neither etc nor template.
Result<Containment> ParseContainment(std::string_view text);

// A read-only, sealed memfd (close-on-exec) holding FormatContainment(c),
// positioned at its start. kInvalidArgument for a value with a newline.
Result<UniqueFd> ContainmentFd(const Containment& c);
// Reads at most 64 KiB from fd and parses it. The caller closes fd.
Result<Containment> ReadContainment(int fd);

}  // namespace qnet::runtime
