#include "policy_cli.h"

#include <fmt/format.h>

#include <map>

namespace qnet::chain {
namespace {

// "QUBE=VALUE" flags, applied to the qube they name.
using Setter = void (*)(qrexec::QubeInfo&, const std::string&);

Status ApplyFlags(std::map<std::string, qrexec::QubeInfo>& qubes, std::string_view flag,
                  const std::vector<std::string>& values, Setter set) {
  for (const std::string& v : values) {
    size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
      return Fail(Errc::kInvalidArgument, fmt::format("--{} {}: expected QUBE=VALUE", flag, v));
    }
    std::string name = v.substr(0, eq);
    qrexec::QubeInfo& q = qubes[name];
    q.name = name;
    set(q, v.substr(eq + 1));
  }
  return OkStatus();
}

void AddNamed(std::map<std::string, qrexec::QubeInfo>& qubes, std::string name) {
  if (name.starts_with("@dispvm:")) name = name.substr(8);
  if (name.empty() || name.starts_with("@") || name == "dom0") return;
  qubes[name].name = name;
}

}  // namespace

Result<std::pair<qrexec::PolicyRequest, qrexec::QubeDirectory>> BuildPolicyCheck(
    const PolicyCheckArgs& args) {
  qrexec::PolicyRequest request;
  size_t plus = args.call.find('+');
  request.service = args.call.substr(0, plus);
  if (plus != std::string::npos) request.argument = args.call.substr(plus + 1);
  request.source = args.source;
  request.target = args.target;
  std::map<std::string, qrexec::QubeInfo> qubes;
  AddNamed(qubes, args.source);
  AddNamed(qubes, args.target);
  QNET_TRY(ApplyFlags(qubes, "tag", args.tags,
                      [](qrexec::QubeInfo& q, const std::string& v) { q.tags.push_back(v); }));
  QNET_TRY(ApplyFlags(qubes, "type", args.types,
                      [](qrexec::QubeInfo& q, const std::string& v) { q.type = v; }));
  QNET_TRY(ApplyFlags(qubes, "default-dispvm", args.dispvms,
                      [](qrexec::QubeInfo& q, const std::string& v) { q.default_dispvm = v; }));
  std::vector<qrexec::QubeInfo> list;
  for (auto& [name, info] : qubes) list.push_back(std::move(info));
  return std::pair{std::move(request), qrexec::QubeDirectory(std::move(list))};
}

int RunPolicyCheck(const PolicyCheckArgs& args) {
  auto built = BuildPolicyCheck(args);
  if (!built) {
    fmt::print(stderr, "qnet: policy check: {}\n", built.error().message());
    return 2;
  }
  qrexec::FilesystemPolicySource fs;
  Result<qrexec::Policy> policy = qrexec::LoadPolicy(fs, args.dir);
  qrexec::PolicyDecision d = qrexec::Decide(policy, built->first, built->second);
  fmt::print("{}\n", qrexec::FormatDecision(d));
  switch (d.action) {
    case qrexec::PolicyAction::kAllow:
      return 0;
    case qrexec::PolicyAction::kAsk:
      return 3;
    case qrexec::PolicyAction::kDeny:
      return 1;
  }
  return 1;
}

}  // namespace qnet::chain
