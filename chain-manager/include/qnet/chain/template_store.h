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

// Where qnetd records which running qube uses which tree: one file per
// qube, <run_root>/<instance>/templates/<qube>, holding the tree's path.
// Written before the qube is spawned, removed when it is removed (and with
// the instance's runtime directory at `down --all`).
Status RecordTemplateUse(const std::string& instance_runtime_dir, const std::string& qube,
                         const std::string& dir);
void ForgetTemplateUse(const std::string& instance_runtime_dir, const std::string& qube);

// The qubes ("<instance>/<qube>", every instance on this host) that use the
// tree `dir`: recorded as above and still running (their network namespace
// is pinned under netns_root; a record a crashed qnetd left is ignored).
// A template is in use while this is not empty.
std::vector<std::string> TemplateUsers(const std::string& dir,
                                       const std::string& run_root = "/run/qnet",
                                       const std::string& netns_root = "/run/netns");

}  // namespace qnet::chain
