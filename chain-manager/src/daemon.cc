// qnetd's chain lifecycle and state: up, down, adopt after a restart, ls,
// graph, save. `qnet firewall` is in firewall_admin.cc, `qnet exec` in
// exec_admin.cc, qnetd's own table read-back in verify.cc.
#include "daemon.h"

#include <nlohmann/json.hpp>

#include "graph.h"
#include "qnet/base/log.h"
#include "qnet/chain/lab.h"
#include "qnet/chain/template_store.h"
#include "qnet/config/chain_file.h"
#include "qnet/config/topology.h"
#include "qnet/qube/label.h"
#include "qnet/qube/role.h"
#include "vpn_admin.h"

namespace qnet::chain {

using std::chrono::seconds;

Daemon::Daemon(Instance inst, DaemonOptions opts, config::KeyRegistry registry, const Clock& clock,
               std::unique_ptr<QubeBackend> backend)
    : inst_(std::move(inst)),
      opts_(std::move(opts)),
      registry_(std::move(registry)),
      clock_(clock),
      backend_(std::move(backend)) {}

Daemon::~Daemon() = default;

bool Daemon::empty() {
  std::lock_guard lock(mu_);
  return !spec_.has_value();
}

void Daemon::Detach() {
  std::lock_guard lock(mu_);
  // A detached lab outlives this qnetd: destroying the object stops nothing.
  if (lab_) lab_->Detach();
  lab_.reset();
  qubes_.clear();
}

Status Daemon::SaveStateLocked() {
  nlohmann::json j;
  j["chain_path"] = spec_ ? spec_->source_path : "";
  j["chain_text"] = spec_text_;
  j["qubes"] = nlohmann::json::array();
  // `qnet dispvm` qubes are not in the chain: a qnetd that restarts destroys
  // them (their client's connection died with the previous qnetd).
  j["disposables"] = nlohmann::json::array();
  for (const auto& [name, q] : qubes_) {
    const QubePlan* planned = plan_ ? plan_->Find(name) : nullptr;
    nlohmann::json rec = {
        {"name", name}, {"pid", q->record().pid}, {"start_time", q->record().start_time}};
    j[planned && planned->transient ? "disposables" : "qubes"].push_back(std::move(rec));
  }
  QNET_TRY(MakeDirs(inst_.state_dir(), 0700));
  return WriteFileAtomic(inst_.state_file(), j.dump(2), 0600);
}

Status Daemon::Restore() {
  std::lock_guard lock(mu_);
  auto text = ReadFile(inst_.state_file());
  if (!text) return OkStatus();  // nothing to adopt
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Fail(Errc::kInvalidArgument, fmt::format("{}: not JSON", inst_.state_file()));
  std::string chain_text = j.value("chain_text", "");
  if (chain_text.empty()) return OkStatus();
  QNET_ASSIGN_OR_RETURN(config::ChainSpec spec,
                        config::ParseChainText(chain_text, j.value("chain_path", ""), registry_));
  QNET_ASSIGN_OR_RETURN(Plan plan, BuildPlan(spec, clock_.UnixNow()));
  QNET_TRY(AttachVpnSections(plan, spec));
  for (const auto& d : j.value("disposables", nlohmann::json::array())) {
    const std::string name = d.value("name", "");
    if (plan.Find(name)) continue;
    auto adopted = backend_->Adopt(
        name, QubeRecord{.pid = d.value("pid", 0), .start_time = d.value("start_time", 0ULL)});
    // Its storage goes with it (Remove of a disposable); one that cannot be
    // adopted any more is removed with the instance (`down --all`).
    if (adopted && (*adopted)->alive()) {
      Status s = backend_->Remove(**adopted);
      spdlog::info("destroyed disposable {} of the previous qnetd{}", name,
                   s ? "" : ": " + s.error().message());
    }
  }
  for (const auto& q : j.value("qubes", nlohmann::json::array())) {
    std::string name = q.value("name", "");
    auto adopted = backend_->Adopt(
        name, QubeRecord{.pid = q.value("pid", 0), .start_time = q.value("start_time", 0ULL)});
    if (!adopted) {
      spdlog::warn("not adopting {}: {}", name, adopted.error().message());
      continue;
    }
    qubes_[name] = std::move(*adopted);
    spdlog::info("adopted qube {}", name);
  }
  spec_ = std::move(spec);
  spec_text_ = chain_text;
  plan_ = std::move(plan);
  if (plan_->lab) {
    // To wire sys-net again if it is restarted; the lab itself kept running.
    auto lab = backend_->AdoptLab(plan_->ipv6);
    if (lab)
      lab_ = std::move(*lab);
    else
      spdlog::warn("not adopting the lab: {}", lab.error().message());
  }
  return OkStatus();
}

Result<std::string> Daemon::Up(const std::string& display_path, const std::string& text) {
  QNET_ASSIGN_OR_RETURN(config::ChainSpec spec,
                        config::ParseChainText(text, display_path, registry_));
  std::lock_guard lock(mu_);
  if (spec_)
    return Fail(Errc::kFailedPrecondition,
                fmt::format("chain '{}' is up; run `qnet down --all` first", spec_->name));
  Status s = UpLocked(spec, text);
  if (!s) {
    // Never leave half a chain behind: a failed `up` removes what it made.
    qubes_.clear();
    lab_.reset();
    plan_.reset();
    spec_.reset();
    spec_text_.clear();
    backend_->CleanupInstance(/*keep_daemon_files=*/true);
    return Fail(s.error());
  }
  return fmt::format("chain {} up: {} qubes\n", spec_->name, qubes_.size());
}

Status Daemon::UpLocked(const config::ChainSpec& spec, const std::string& text) {
  QNET_ASSIGN_OR_RETURN(Plan plan, BuildPlan(spec, clock_.UnixNow()));
  QNET_TRY(AttachVpnSections(plan, spec));
  QNET_TRY(MakeDirs(inst_.runtime_dir(), 0700));
  // Spawn every qube at once; each agent locks its qube down on its own.
  for (const QubePlan& q : plan.qubes) {
    SpawnParams p = SpawnParamsFor(q);
    p.ipv6 = plan.ipv6;
    if (!p.template_dir.empty())
      QNET_TRY(RecordTemplateUse(inst_.runtime_dir(), p.name, p.template_dir));
    QNET_ASSIGN_OR_RETURN(auto proc, backend_->Spawn(p));
    qubes_[q.spec.name] = std::move(proc);
  }
  // The lab starts while the agents lock their qubes down (it is needed
  // only to wire sys-net's uplink, after every lockdown is verified).
  if (plan.lab) {
    QNET_ASSIGN_OR_RETURN(lab_, backend_->StartLab(opts_.bin_dir + "/qnet-lab", plan.ipv6));
  }
  spec_ = spec;
  spec_text_ = text;
  QNET_TRY(SaveStateLocked());
  // Contract 1: no link exists before the qube's table is verified by us.
  for (const QubePlan& q : plan.qubes) {
    auto& proc = qubes_[q.spec.name];
    QNET_TRY(proc->WaitForAgent(kCallTimeout + seconds(opts_.hold_seconds)));
    QNET_TRY(proc->VerifyLockdown());
  }
  for (const LinkPlan& l : plan.links) {
    if (Status s = backend_->Connect(*qubes_[l.netvm], *qubes_[l.client], l.vif, "eth0"); !s)
      return Fail(s.error().Wrap(fmt::format("link {} -> {}", l.client, l.netvm)));
  }
  for (const QubePlan& q : plan.qubes) {
    if (q.spec.role == qube::Role::kNet && lab_) QNET_TRY(lab_->Connect(*qubes_[q.spec.name]));
  }
  for (const LinkPlan& l : plan.links) {
    QNET_TRY(qubes_[l.netvm]->SetLinkUp(l.vif));
    QNET_TRY(qubes_[l.client]->SetLinkUp("eth0"));
  }
  for (const QubePlan& q : plan.qubes) {
    if (q.spec.role == qube::Role::kNet && lab_)
      QNET_TRY(qubes_[q.spec.name]->SetLinkUp(lab::kSysNetUplinkIf));
  }
  for (const QubePlan& q : plan.qubes) QNET_TRY(ConfigureLocked(q));
  plan_ = std::move(plan);
  return OkStatus();
}

SpawnParams Daemon::SpawnParamsFor(const QubePlan& q) const {
  return SpawnParams{
      .name = q.spec.name,
      .ipv6 = plan_ && plan_->ipv6,
      .hold_lockdown_seconds = q.spec.name == opts_.hold_qube ? opts_.hold_seconds : 0,
      .refresh_floor_seconds = opts_.refresh_floor_seconds,
      .agent_path = opts_.bin_dir + "/" + opts_.agent_program,
      .template_dir = TemplateDir(q.spec.template_dir),
      .disposable = q.disposable,
      .template_writable = q.template_writable,
      .tun = q.spec.role == qube::Role::kVpn};
}

Status Daemon::ConfigureLocked(const QubePlan& q) {
  auto it = qubes_.find(q.spec.name);
  if (it == qubes_.end())
    return Fail(Errc::kInternal, fmt::format("qube {}: configure: not running", q.spec.name));
  QNET_ASSIGN_OR_RETURN(auto r,
                        it->second->Call("qnet.Configure", qube::ToJson(q.agent), kCallTimeout));
  if (r.exit_code != 0)
    return Fail(Errc::kFailedPrecondition,
                fmt::format("qube {}: configure: {}", q.spec.name, FailureText(r)));
  return OkStatus();
}

Status Daemon::RemoveQubeLocked(const std::string& name) {
  auto it = qubes_.find(name);
  if (it == qubes_.end()) return OkStatus();
  std::shared_ptr<RunningQube> q = std::move(it->second);
  qubes_.erase(it);
  Status s = backend_->Remove(*q);
  if (s) ForgetTemplateUse(inst_.runtime_dir(), name);
  return s;
}

Result<std::string> Daemon::Down(const std::string& qube, bool recursive) {
  std::lock_guard lock(mu_);
  if (qube.empty()) {
    qubes_.clear();
    lab_.reset();
    spec_.reset();
    plan_.reset();
    spec_text_.clear();
    CleanupReport r = backend_->CleanupInstance(/*keep_daemon_files=*/true);
    if (!r.errors.empty())
      return Fail(Errc::kIo, fmt::format("down: {}", fmt::join(r.errors, "; ")));
    return fmt::format("down: {} namespaces removed\n", r.namespaces_removed);
  }
  if (!spec_ || !qubes_.contains(qube))
    return Fail(Errc::kNotFound, fmt::format("qube '{}' is not running", qube));
  // Clients first: a netvm is removed only after everything behind it.
  std::vector<std::string> order;
  std::vector<std::string> todo = {qube};
  while (!todo.empty()) {
    std::string q = todo.back();
    todo.pop_back();
    order.push_back(q);
    for (const std::string& c : config::ClientsOf(*spec_, q)) {
      if (!qubes_.contains(c)) continue;
      if (!recursive)
        return Fail(Errc::kFailedPrecondition,
                    fmt::format("qube '{}' is the netvm of '{}'; use --recursive", qube, c));
      todo.push_back(c);
    }
  }
  std::string out;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    QNET_TRY(RemoveQubeLocked(*it));
    out += fmt::format("{} down\n", *it);
  }
  QNET_TRY(SaveStateLocked());
  return out;
}

std::shared_ptr<RunningQube> Daemon::FindQube(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = qubes_.find(name);
  return it == qubes_.end() ? nullptr : it->second;
}

Result<std::vector<QubeRow>> Daemon::List() {
  std::lock_guard lock(mu_);
  std::vector<QubeRow> rows;
  if (!plan_) return rows;
  for (const QubePlan& q : plan_->qubes) {
    QubeRow r;
    r.name = q.spec.name;
    r.id = q.spec.id;
    r.role = std::string(qube::RoleName(q.spec.role));
    r.disposable = q.disposable;
    r.label = std::string(qube::LabelName(q.spec.label));
    r.netvm = q.spec.netvm;
    r.ip = q.addr4.ToString();
    auto it = qubes_.find(q.spec.name);
    if (it == qubes_.end()) {
      r.state = "halted";
    } else {
      r.init_pid = it->second->record().pid;
      r.state = it->second->alive() ? "running" : "dead";
      if (auto c = it->second->ReadDropCounters(); c) {
        r.drops_input = c->input;
        r.drops_forward = c->forward;
        r.drops_output = c->output;
        r.counters_ok = true;
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::string> Daemon::Graph() {
  std::lock_guard lock(mu_);
  if (!plan_) return Fail(Errc::kNotFound, "no chain is up");
  return RenderGraph(*plan_);
}

Result<std::string> Daemon::Save() {
  std::lock_guard lock(mu_);
  if (!spec_) return Fail(Errc::kNotFound, "no chain is up");
  return config::FormatChainFile(*spec_);
}

#ifdef QNET_TEST_HOOKS
Result<std::string> Daemon::TestReload(const std::string& qube, int count, bool unsafe) {
  auto proc = FindQube(qube);
  if (!proc) return Fail(Errc::kNotFound, fmt::format("qube '{}' is not running", qube));
  QNET_ASSIGN_OR_RETURN(auto r, proc->Call("qnet.TestReload", std::to_string(count), seconds(300),
                                           {}, unsafe ? "unsafe" : "safe"));
  if (r.exit_code != 0) return Fail(Errc::kFailedPrecondition, FailureText(r));
  return r.stdout_data;
}
#endif

}  // namespace qnet::chain
