// The qrexec policy: Qubes' policy format (R4.1+, /etc/qubes/policy.d), read
// by qnetd from /etc/qnet/policy.d, and the evaluator that decides a call.
//
// A file is a list of lines; blank lines and lines starting with '#' are
// skipped. A rule is
//   SERVICE  ARGUMENT  SOURCE  TARGET  ACTION  [PARAM=VALUE ...]
//   SERVICE   "*" or a service name
//   ARGUMENT  "*" (any), "+" (no argument) or "+ARG"; "*" when SERVICE is "*"
//   SOURCE    "*", "@anyvm", "@adminvm" (or "dom0"), "@tag:T", "@type:T",
//             "@dispvm" (any disposable), "@dispvm:NAME" (a disposable of
//             NAME), "@dispvm:@tag:T", or a qube name
//   TARGET    what SOURCE allows, plus "@default" (the caller named none)
//   ACTION    allow  [target= user= autostart= notify=]
//             deny   [notify=]
//             ask    [target= default_target= user= autostart= notify=]
// ("$" for "@" is accepted, as in Qubes.) Directives:
//   !include PATH                       a policy file
//   !include-dir PATH                   its *.policy files, in C-locale order
//   !include-service SERVICE ARG PATH   a file of "SOURCE TARGET ACTION[,P=V]"
//                                       lines (Qubes' 4.0 format) for SERVICE
//   !compat-4.0                         accepted; qnet has no 4.0 policy files
// Relative paths are relative to the policy directory.
//
// Evaluation: the first rule whose service, argument, source and target match
// decides; no matching rule denies. A policy that does not parse is not
// half-used: LoadPolicy fails naming FILE:LINE, and Decide denies every call
// with that error.
//
// "@anyvm" matches every qube but dom0 (@adminvm); as a target it also
// matches @default and @dispvm requests, as in Qubes. "*" matches everything. A target "@dispvm"
// request matches "@dispvm" rules and
// "@dispvm:NAME" rules for the source's default disposable template NAME.
//
// Everything here but FilesystemPolicySource is pure; values are immutable
// once built and safe to share between threads.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"

namespace qnet::qrexec {

enum class PolicyAction : uint8_t { kAllow, kDeny, kAsk };
// "allow", "deny", "ask".
std::string_view PolicyActionName(PolicyAction action);

// Where a rule was written.
struct PolicyLocation {
  std::string file;
  int line = 0;
  bool operator==(const PolicyLocation&) const = default;
};
// "FILE:LINE".
std::string FormatLocation(const PolicyLocation& location);

struct PolicyRule {
  PolicyLocation location;
  std::string service;                  // "*" or a name
  std::optional<std::string> argument;  // nullopt = "*"; "" = no argument
  std::string source;                   // token, "$" already turned to "@"
  std::string target;
  PolicyAction action = PolicyAction::kDeny;
  std::optional<std::string> redirect;        // target=
  std::optional<std::string> default_target;  // default_target= (ask)
  std::optional<std::string> user;            // user=
  std::optional<bool> autostart;              // autostart=
  std::optional<bool> notify;                 // notify=
};

// What the evaluator knows about a qube.
struct QubeInfo {
  std::string name;
  std::string type = "AppVM";  // AppVM, TemplateVM, DispVM, StandaloneVM, AdminVM
  std::vector<std::string> tags;
  std::string template_for_dispvm;  // for a disposable: the template it came from
  std::string default_dispvm;       // the disposable template its @dispvm calls use
};

// The qubes a call may name. dom0 is always known (type AdminVM).
class QubeDirectory {
 public:
  explicit QubeDirectory(std::vector<QubeInfo> qubes = {});
  const QubeInfo* Find(std::string_view name) const;

 private:
  std::map<std::string, QubeInfo, std::less<>> qubes_;
};

struct PolicyRequest {
  std::string service;
  std::string argument;  // without '+'; empty for none
  std::string source;    // the calling qube
  std::string target;    // as requested: a qube, "@default", "@dispvm", "@dispvm:NAME", "@adminvm"
};

struct PolicyDecision {
  PolicyAction action = PolicyAction::kDeny;
  // allow: where the call goes ("@dispvm:NAME" = a new disposable of NAME);
  // ask: the target proposed (empty if none).
  std::string target;
  std::string default_target;  // ask
  std::string user;            // empty = the target's default user
  bool autostart = true;
  bool notify = false;
  std::optional<PolicyLocation> rule;  // nullopt: no rule matched, or no valid policy
  std::string reason;                  // why, for logs and `qnet policy check`
};

// Reads policy text. The filesystem in production, a map in tests.
class PolicySource {
 public:
  virtual ~PolicySource() = default;
  // The whole file. kNotFound / kIo naming the path.
  virtual Result<std::string> ReadFile(const std::string& path) const = 0;
  // The names (not paths) of the entries of a directory, in any order.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) const = 0;
};

// PolicySource over the real filesystem.
class FilesystemPolicySource : public PolicySource {
 public:
  Result<std::string> ReadFile(const std::string& path) const override;
  Result<std::vector<std::string>> ListDir(const std::string& path) const override;
};

class Policy {
 public:
  // The rules of one file's text. `file` names it in locations and errors;
  // includes are read through `source`, relative to `base_dir`. Errors:
  // kInvalidArgument "FILE:LINE: what is wrong" (also for an included file's
  // line), or the source's error naming the include that failed.
  static Result<Policy> Parse(std::string_view text, const std::string& file,
                              const PolicySource& source, const std::string& base_dir);

  const std::vector<PolicyRule>& rules() const { return rules_; }
  // The decision for a request (first match wins; no match denies).
  PolicyDecision Evaluate(const PolicyRequest& request, const QubeDirectory& qubes) const;

 private:
  friend class PolicyParser;
  std::vector<PolicyRule> rules_;
};

// Every *.policy file of `dir` in C-locale (byte) order, as one policy. An
// empty or missing directory is an empty policy (which denies everything).
Result<Policy> LoadPolicy(const PolicySource& source, const std::string& dir);

// policy->Evaluate, or a deny naming the policy's error when it is invalid.
PolicyDecision Decide(const Result<Policy>& policy, const PolicyRequest& request,
                      const QubeDirectory& qubes);

// One line for logs and `qnet policy check`:
// "allow target=work (30-user.policy:4: ...)" / "deny (no rule matched)".
std::string FormatDecision(const PolicyDecision& decision);

}  // namespace qnet::qrexec
