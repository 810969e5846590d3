// Templates qnet builds and keeps (`qnet template create/run/ls/remove`):
// root trees under kTemplatesRoot/NAME, shared by every instance, as Qubes'
// template qubes are shared by every qube based on them. Pure helpers here;
// the CLI that builds and runs them is chain-manager/src/template_cli.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"

namespace qnet::chain {

inline constexpr std::string_view kTemplatesRoot = "/var/lib/qnet/templates";

// The directory of a qube's `template` as config::QubeSpec::template_dir
// holds it: "" (the host template) stays "", an absolute path stays as it
// is, a template name becomes root/NAME.
std::string TemplateDir(const std::string& template_value, std::string_view root = kTemplatesRoot);

// Whether a process's command line (NUL-separated, as /proc/PID/cmdline)
// is a qube's init or agent started with `--template DIR` (pure).
bool CmdlineUsesTemplate(std::string_view cmdline, std::string_view dir);

// Pids of the processes (on this host, every instance) whose command line
// uses the tree `dir`: the inits and agents of the qubes based on it. A
// template is in use while this is not empty.
std::vector<int> TemplateUsers(const std::string& dir);

}  // namespace qnet::chain
