// `qnet dispvm`: a disposable qube for one command (docs/isolation.md
// "Disposables"). qnetd adds it to the running chain's plan, spawns it like
// any qube (lockdown verified before its link comes up), runs the command
// through the agent's qnet.Exec with the client's stdio, and destroys it
// when the command exits or the client goes away.
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "admin_services.h"
#include "daemon.h"
#include "qnet/base/log.h"
#include "qnet/chain/disposable.h"
#include "qnet/chain/template_store.h"
#include "qnet/firewall/rule_list.h"
#include "qnet/qrexec/channel.h"
#include "qnet/qrexec/frame.h"
#include "qnet/qube/qube.h"

namespace qnet::chain {
namespace {

using std::chrono::seconds;

// Qubes' default netvm is sys-firewall: here the first firewall qube of the
// chain file, else its net qube.
std::optional<std::string> DefaultNetvm(const config::ChainSpec& spec) {
  for (const config::QubeSpec& q : spec.qubes)
    if (q.role == qube::Role::kFirewall) return q.name;
  for (const config::QubeSpec& q : spec.qubes)
    if (q.role == qube::Role::kNet) return q.name;
  return std::nullopt;
}

Result<DisposableSpec> ToSpec(const DispvmRequest& req, const config::ChainSpec& chain,
                              int64_t now) {
  DisposableSpec spec;
  if (!req.netvm) {
    spec.netvm = DefaultNetvm(chain);
  } else if (!req.netvm->empty()) {
    spec.netvm = *req.netvm;
  }
  QNET_ASSIGN_OR_RETURN(spec.label, qube::ParseLabel(req.label));
  if (!req.template_name.empty() && req.template_name != "host") {
    if (req.template_name.front() != '/') QNET_TRY(qube::ValidateTemplateName(req.template_name));
    spec.template_dir = req.template_name;
  }
  spec.template_writable = req.template_writable;
  if (req.template_writable && spec.template_dir.empty())
    return Fail(Errc::kInvalidArgument, "a writable root needs a template, not the host's");
  if (!req.firewall.empty()) {
    if (!spec.netvm)
      return Fail(Errc::kInvalidArgument, "--firewall needs a netvm (it enforces the rules)");
    auto rules = firewall::RuleList::Parse(req.firewall, now);
    if (!rules) return Fail(rules.error().Wrap("--firewall"));
    spec.firewall = std::move(*rules);
  }
  return spec;
}

// Waits for the command's exit code on `result`, or for the client to hang
// up its end of `lifeline` (then kUnavailable: the caller destroys the qube).
Result<int> AwaitExit(qrexec::Channel& result, int lifeline, const std::string& qube) {
  for (;;) {
    pollfd fds[2] = {{result.fd(), POLLIN, 0}, {lifeline, POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrnoError("poll", errno));
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) break;
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
      return Fail(Errc::kUnavailable, fmt::format("{}: the client went away", qube));
  }
  auto msg = result.Receive();
  if (!msg || msg->type != qrexec::MsgType::kDataExitCode)
    return Fail(Errc::kUnavailable, fmt::format("{}: the command's exit code was lost", qube));
  QNET_ASSIGN_OR_RETURN(int32_t code, qrexec::DecodeExitCode(msg->payload));
  return static_cast<int>(code);
}

}  // namespace

Status Daemon::ReconfigureLocked(const std::string& qube) {
  const QubePlan* q = plan_ ? plan_->Find(qube) : nullptr;
  auto it = qubes_.find(qube);
  if (!q || it == qubes_.end())
    return Fail(Errc::kNotFound, fmt::format("qube '{}' is not running", qube));
  QNET_ASSIGN_OR_RETURN(auto r,
                        it->second->Call("qnet.Configure", qube::ToJson(q->agent), kCallTimeout));
  if (r.exit_code != 0)
    return Fail(Errc::kFailedPrecondition,
                fmt::format("qube {}: configure: {}", qube, FailureText(r)));
  return OkStatus();
}

Status Daemon::StartPlannedDisposableLocked(const QubePlan& q) {
  const std::string name = q.spec.name;
  SpawnParams p{.name = name,
                .ipv6 = plan_->ipv6,
                .refresh_floor_seconds = opts_.refresh_floor_seconds,
                .agent_path = opts_.bin_dir + "/" + opts_.agent_program,
                .template_dir = TemplateDir(q.spec.template_dir),
                .disposable = true,
                .template_writable = q.template_writable};
  if (!p.template_dir.empty())
    QNET_TRY(RecordTemplateUse(inst_.runtime_dir(), name, p.template_dir));
  QNET_ASSIGN_OR_RETURN(auto proc, backend_->Spawn(p));
  std::shared_ptr<RunningQube> disp = std::move(proc);
  qubes_[name] = disp;
  QNET_TRY(SaveStateLocked());
  // Contract 1, as at `up`: no link before its table is verified by us.
  QNET_TRY(disp->WaitForAgent(kCallTimeout));
  QNET_TRY(disp->VerifyLockdown());
  if (q.spec.netvm) {
    const LinkPlan* link = nullptr;
    for (const LinkPlan& l : plan_->links)
      if (l.client == name) link = &l;
    auto netvm = qubes_.find(*q.spec.netvm);
    if (!link || netvm == qubes_.end())
      return Fail(Errc::kUnavailable, fmt::format("netvm '{}' is not running", *q.spec.netvm));
    if (Status s = backend_->Connect(*netvm->second, *disp, link->vif, "eth0"); !s)
      return Fail(s.error().Wrap(fmt::format("link {} -> {}", name, *q.spec.netvm)));
    QNET_TRY(netvm->second->SetLinkUp(link->vif));
    QNET_TRY(disp->SetLinkUp("eth0"));
    // The netvm learns its new client (anti-spoofing entry, route, firewall
    // list); until then what comes from the vif matches no client: dropped.
    QNET_TRY(ReconfigureLocked(*q.spec.netvm));
  }
  return ReconfigureLocked(name);
}

Result<std::string> Daemon::StartDisposableLocked(const DispvmRequest& req) {
  if (!plan_ || !spec_)
    return Fail(Errc::kFailedPrecondition,
                "no chain is up: `qnet up` one first (a disposable attaches to it)");
  QNET_ASSIGN_OR_RETURN(DisposableSpec spec, ToSpec(req, *spec_, clock_.UnixNow()));
  // A template changes only while nothing runs from it (an overlay's lower
  // layer must not change under it), and one template qube at a time.
  if (!spec.template_dir.empty()) {
    const std::string dir = TemplateDir(spec.template_dir);
    for (const QubePlan& q : plan_->qubes)
      if (q.template_writable && TemplateDir(q.spec.template_dir) == dir)
        return Fail(Errc::kFailedPrecondition, fmt::format("template {} is being changed by {}",
                                                           spec.template_dir, q.spec.name));
    if (spec.template_writable && !TemplateUsers(dir).empty())
      return Fail(Errc::kFailedPrecondition,
                  fmt::format("template {} is in use by a running qube", spec.template_dir));
  }
  std::random_device rd;
  const uint64_t random = (static_cast<uint64_t>(rd()) << 32) | rd();
  QNET_ASSIGN_OR_RETURN(DispIds ids, PickDisposableIds(*plan_, random));
  QNET_ASSIGN_OR_RETURN(const QubePlan* q, AddDisposable(*plan_, spec, ids));
  const std::string name = q->spec.name;
  const QubePlan planned = *q;
  if (Status s = StartPlannedDisposableLocked(planned); !s) {
    DestroyDisposableLocked(name);
    return Fail(s.error().Wrap(fmt::format("dispvm {}", name)));
  }
  spdlog::info("disposable {} up ({}, netvm {})", name, planned.addr4,
               planned.spec.netvm.value_or("none"));
  return name;
}

void Daemon::DestroyDisposableLocked(const std::string& name) {
  std::optional<std::string> netvm;
  if (plan_)
    if (const QubePlan* q = plan_->Find(name)) netvm = q->spec.netvm;
  if (Status s = RemoveQubeLocked(name); !s)
    spdlog::warn("disposable {}: {}", name, s.error().message());
  ForgetTemplateUse(inst_.runtime_dir(), name);  // also when its spawn failed
  if (plan_ && RemoveDisposable(*plan_, name) && netvm && qubes_.contains(*netvm)) {
    // Its link went with it; the netvm forgets the client.
    if (Status s = ReconfigureLocked(*netvm); !s)
      spdlog::warn("disposable {}: netvm {}: {}", name, *netvm, s.error().message());
  }
  // Its files and host ids (a disposable's Remove discards them already;
  // this also covers one whose start failed half-way).
  if (Status s = backend_->RemoveStorage(name); !s && s.error().code() != Errc::kNotFound)
    spdlog::warn("disposable {}: storage: {}", name, s.error().message());
  if (spec_) (void)SaveStateLocked();
  spdlog::info("disposable {} destroyed", name);
}

Result<int> Daemon::Dispvm(const DispvmRequest& req, std::vector<int> stdio, int lifeline) {
  if (req.argv.empty()) return Fail(Errc::kInvalidArgument, "dispvm: no command");
  std::string name;
  std::shared_ptr<RunningQube> proc;
  {
    std::lock_guard lock(mu_);
    QNET_ASSIGN_OR_RETURN(name, StartDisposableLocked(req));
    proc = qubes_[name];
  }
  int sv[2];
  Result<int> code = Fail(Errc::kInternal, "unset");
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    code = Fail(ErrnoError("socketpair", errno));
  } else {
    UniqueFd ours(sv[0]), theirs(sv[1]);
    stdio.push_back(theirs.get());
    nlohmann::json j = {{"argv", req.argv}, {"root", req.root}};
    auto r = proc->Call("qnet.Exec", j.dump(), kCallTimeout, stdio);
    theirs.reset();
    if (!r) {
      code = Fail(r.error());
    } else if (r->exit_code != 0) {
      code = Fail(Errc::kFailedPrecondition, FailureText(*r));
    } else {
      qrexec::Channel result(std::move(ours));
      code = AwaitExit(result, lifeline, name);
    }
  }
  proc.reset();
  std::lock_guard lock(mu_);
  DestroyDisposableLocked(name);
  return code;
}

}  // namespace qnet::chain

namespace qnet::chain {

qrexec::ServiceHandler DispvmService(Daemon& d) {
  return [&d](qrexec::ServiceRequest& r) -> qrexec::ServiceReply {
    auto bad = [](std::string_view what) {
      return qrexec::ServiceReply{2, {}, fmt::format("bad request: {}\n", what)};
    };
    auto j = nlohmann::json::parse(r.input.empty() ? "{}" : r.input, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("argv") || !j["argv"].is_array() ||
        j["argv"].empty())
      return bad("admin.Dispvm wants {argv[], netvm, label, template, firewall[]}");
    if (r.fds.size() != 4) return bad("admin.Dispvm wants 4 fds (stdin, stdout, stderr, lifeline)");
    DispvmRequest req;
    auto strings = [](const nlohmann::json& a, std::vector<std::string>& out) {
      for (const auto& v : a) {
        if (!v.is_string()) return false;
        out.push_back(v.get<std::string>());
      }
      return true;
    };
    if (!strings(j["argv"], req.argv)) return bad("argv must be strings");
    if (j.contains("firewall") &&
        (!j["firewall"].is_array() || !strings(j["firewall"], req.firewall)))
      return bad("firewall must be rule strings");
    if (j.contains("netvm") && !j["netvm"].is_null()) {
      if (!j["netvm"].is_string()) return bad("netvm must be a string or null");
      req.netvm = j["netvm"].get<std::string>();
    }
    for (auto [key, flag] :
         {std::pair{"root", &req.root}, std::pair{"template_writable", &req.template_writable}}) {
      if (!j.contains(key)) continue;
      if (!j[key].is_boolean()) return bad(fmt::format("{} must be a boolean", key));
      *flag = j[key].get<bool>();
    }
    for (auto [key, field] :
         {std::pair{"label", &req.label}, std::pair{"template", &req.template_name}}) {
      if (!j.contains(key)) continue;
      if (!j[key].is_string()) return bad(fmt::format("{} must be a string", key));
      *field = j[key].get<std::string>();
    }
    std::vector<int> stdio = {r.fds[0].get(), r.fds[1].get(), r.fds[2].get()};
    auto code = d.Dispvm(req, stdio, r.fds[3].get());
    if (!code) return {kAdminErrorExit, {}, code.error().message() + "\n"};
    return {*code, {}, {}};
  };
}

}  // namespace qnet::chain
