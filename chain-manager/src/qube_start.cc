// `qnet start` and `qnet restart` of one qube of the running chain: the
// qube is spawned again, verified locked down, and linked to its netvm and
// its running clients again (their old links went with the old qube).
#include "daemon.h"
#include "qnet/base/log.h"
#include "qnet/chain/lab.h"
#include "qnet/chain/template_store.h"
#include "qnet/qube/role.h"

namespace qnet::chain {

using std::chrono::seconds;

bool Daemon::RunningLocked(const std::string& name) const {
  auto it = qubes_.find(name);
  return it != qubes_.end() && it->second->alive();
}

Status Daemon::StartQubeLocked(const QubePlan& q) {
  const std::string& name = q.spec.name;
  if (q.spec.netvm && !RunningLocked(*q.spec.netvm))
    return Fail(
        Errc::kFailedPrecondition,
        fmt::format("netvm '{}' of '{}' is not running; start it first", *q.spec.netvm, name));
  if (q.spec.role == qube::Role::kNet && plan_->lab && !lab_)
    return Fail(Errc::kFailedPrecondition,
                fmt::format("qube {}: the lab is not known to this qnetd; `qnet down --all` "
                            "and `qnet up` again",
                            name));
  // Whatever is left of the old qube goes first, its links with it: no
  // address of it is forwarded until the new one is verified and linked.
  if (auto it = qubes_.find(name); it != qubes_.end()) {
    std::shared_ptr<RunningQube> old = std::move(it->second);
    qubes_.erase(it);
    QNET_TRY(backend_->Remove(*old));
  }
  const SpawnParams params = SpawnParamsFor(q);
  if (!params.template_dir.empty())
    QNET_TRY(RecordTemplateUse(inst_.runtime_dir(), params.name, params.template_dir));
  QNET_ASSIGN_OR_RETURN(auto spawned, backend_->Spawn(params));
  std::shared_ptr<RunningQube> self = std::move(spawned);
  qubes_[name] = self;
  QNET_TRY(SaveStateLocked());
  // Contract 1, as in `up`: no link before qnetd has read the lockdown back.
  QNET_TRY(self->WaitForAgent(kCallTimeout + seconds(opts_.hold_seconds)));
  QNET_TRY(self->VerifyLockdown());

  // Its link to its netvm, and one to each client that runs.
  std::vector<const LinkPlan*> links;
  std::vector<std::string> reconfigure;
  for (const LinkPlan& l : plan_->links) {
    if (l.client == name) {
      links.push_back(&l);
      reconfigure.push_back(l.netvm);
    } else if (l.netvm == name && RunningLocked(l.client)) {
      links.push_back(&l);
      reconfigure.push_back(l.client);
    }
  }
  for (const LinkPlan* l : links) {
    if (Status s = backend_->Connect(*qubes_[l->netvm], *qubes_[l->client], l->vif, "eth0"); !s)
      return Fail(s.error().Wrap(fmt::format("link {} -> {}", l->client, l->netvm)));
  }
  const bool uplink = q.spec.role == qube::Role::kNet && lab_;
  if (uplink) QNET_TRY(lab_->Connect(*self));
  for (const LinkPlan* l : links) {
    QNET_TRY(qubes_[l->netvm]->SetLinkUp(l->vif));
    QNET_TRY(qubes_[l->client]->SetLinkUp("eth0"));
  }
  if (uplink) QNET_TRY(self->SetLinkUp(lab::kSysNetUplinkIf));
  // The qube's own configuration, then the other end of each new link (its
  // vif's or eth0's addresses, routes and neighbours are new).
  QNET_TRY(ConfigureLocked(q));
  for (const std::string& other : reconfigure)
    if (const QubePlan* p = plan_->Find(other)) QNET_TRY(ConfigureLocked(*p));
  return OkStatus();
}

Result<std::string> Daemon::Start(const std::string& qube) {
  std::lock_guard lock(mu_);
  if (!plan_) return Fail(Errc::kNotFound, "no chain is up");
  const QubePlan* q = plan_->Find(qube);
  if (!q) return Fail(Errc::kNotFound, fmt::format("qube '{}' is not in the chain", qube));
  if (RunningLocked(qube))
    return Fail(Errc::kFailedPrecondition,
                fmt::format("qube '{}' is running; use `qnet restart {}`", qube, qube));
  if (Status s = StartQubeLocked(*q); !s) {
    spdlog::warn("start {}: {}", qube, s.error().message());
    return Fail(s.error());
  }
  spdlog::info("qube {} started", qube);
  return fmt::format("{} started\n", qube);
}

Result<std::string> Daemon::Restart(const std::string& qube) {
  std::lock_guard lock(mu_);
  if (!plan_) return Fail(Errc::kNotFound, "no chain is up");
  const QubePlan* q = plan_->Find(qube);
  if (!q) return Fail(Errc::kNotFound, fmt::format("qube '{}' is not in the chain", qube));
  if (Status s = StartQubeLocked(*q); !s) {
    spdlog::warn("restart {}: {}", qube, s.error().message());
    return Fail(s.error());
  }
  spdlog::info("qube {} restarted", qube);
  return fmt::format("{} restarted\n", qube);
}

}  // namespace qnet::chain
