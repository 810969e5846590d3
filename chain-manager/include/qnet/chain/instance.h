// An instance of qnet: its name and every path and namespace name derived
// from it (docs/architecture.md "Instances"). Tests use their own instance.
#pragma once

#include <string>

#include "qnet/base/result.h"

namespace qnet::chain {

class Instance {
 public:
  // name: [a-z0-9][a-z0-9-]{0,23}; the error names the rule.
  static Result<Instance> Create(std::string name);
  // --instance if given, else $QNET_INSTANCE, else "qnet".
  static Result<Instance> FromFlagOrEnv(const std::string& flag);
  // The same instance with its runtime, state and log directories under
  // `root` (an absolute directory) instead of /: for tests of qnetd's logic
  // without root. Namespace pins stay in /run/netns.
  Instance UnderRoot(std::string root) const;

  const std::string& name() const { return name_; }
  std::string runtime_dir() const { return root_ + "/run/qnet/" + name_; }
  std::string state_dir() const { return root_ + "/var/lib/qnet/" + name_; }
  std::string state_file() const { return state_dir() + "/state.json"; }
  std::string socket_path() const { return runtime_dir() + "/qnetd.sock"; }
  std::string lock_path() const { return runtime_dir() + "/qnetd.lock"; }
  // qnetd's log lives outside the runtime directory: `down --all` empties that.
  std::string log_path() const { return root_ + "/var/log/qnet/" + name_ + ".log"; }
  std::string agents_dir() const { return runtime_dir() + "/agents"; }
  std::string lab_dir() const { return runtime_dir() + "/lab"; }
  // Every namespace this instance pins is recorded here before it is
  // created, so cleanup finds it even after a crash.
  std::string namespaces_file() const { return runtime_dir() + "/namespaces"; }
  // "<instance>-<qube>": the namespace name `ip netns exec` knows.
  std::string netns_name(const std::string& qube) const { return name_ + "-" + qube; }
  std::string netns_path(const std::string& qube) const { return "/run/netns/" + netns_name(qube); }

 private:
  explicit Instance(std::string name) : name_(std::move(name)) {}
  std::string name_;
  std::string root_;  // "" (the real /) or UnderRoot's directory
};

}  // namespace qnet::chain
