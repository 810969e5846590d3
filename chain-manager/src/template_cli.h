// `qnet template create|run|ls|remove`: root trees qnet keeps under
// kTemplatesRoot (template_store.h), as Qubes' template qubes. create,
// ls and remove work on the trees directly (no qnetd); run asks qnetd for a
// contained qube whose / is the tree itself (admin.Dispvm, writable).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/chain/instance.h"
#include "qnet/chain/template_store.h"

namespace qnet::chain {

struct TemplateArgs {
  std::string op;  // create run ls remove
  std::string name;
  // create: where the tree comes from (one of them; none: mmdebstrap).
  std::string suite = "bookworm";
  std::string mirror;   // mmdebstrap's default when empty
  std::string include;  // packages, comma-separated
  std::string from_dir, from_tarball;
  // run
  std::optional<std::string> netvm;  // default: none (a template qube has no network)
  std::vector<std::string> command;
  std::string root = std::string(kTemplatesRoot);
};

// Registers `template` and its subcommands on `app`, filling `a`; returns
// the `template` command (parsed when any of them was).
CLI::App* AddTemplateCommand(CLI::App& app, TemplateArgs& a);

// The mmdebstrap command line that builds `dest` (pure). Refuses a suite,
// mirror or package list that mmdebstrap would misread (a space, a leading
// '-', a mirror that is not http(s)/file), naming the option.
Result<std::vector<std::string>> MmdebstrapArgv(const TemplateArgs& a, const std::string& dest);

// Runs the subcommand; returns the exit code.
int RunTemplate(const Instance& inst, const TemplateArgs& a);

}  // namespace qnet::chain
