#include "qnet/chain/disposable.h"

#include <algorithm>
#include <set>

#include "qnet/firewall/agent_section.h"
#include "qnet/qube/address.h"
#include "qnet/qube/role.h"

namespace qnet::chain {

std::string DisposableName(uint32_t dispid) { return fmt::format("disp{}", dispid); }

Result<DispIds> PickDisposableIds(const Plan& plan, uint64_t random) {
  std::set<uint32_t> qids, dispids;
  std::set<std::string> names;
  for (const QubePlan& q : plan.qubes) {
    qids.insert(q.spec.id);
    if (q.disposable) dispids.insert(q.dispid);
    names.insert(q.spec.name);
  }
  DispIds ids;
  for (uint32_t id = qube::kMinQubeId; id <= qube::kMaxQubeId && ids.qid == 0; ++id)
    if (!qids.contains(id)) ids.qid = id;
  if (ids.qid == 0) return Fail(Errc::kUnavailable, "no free qube id for a disposable");
  const uint32_t start = static_cast<uint32_t>(random % kMaxDispId);
  for (uint32_t i = 0; i < kMaxDispId; ++i) {
    const uint32_t d = 1 + (start + i) % kMaxDispId;
    if (dispids.contains(d) || names.contains(DisposableName(d))) continue;
    ids.dispid = d;
    return ids;
  }
  return Fail(Errc::kUnavailable, fmt::format("all {} disposable ids are in use (disp1..disp{})",
                                              kMaxDispId, kMaxDispId));
}

namespace {

Result<QubePlan> PlanDisposable(const Plan& plan, const DisposableSpec& spec, const DispIds& ids,
                                const QubePlan* netvm) {
  QubePlan q;
  q.spec.name = DisposableName(ids.dispid);
  q.spec.role = qube::Role::kApp;
  q.spec.label = spec.label;
  q.spec.netvm = spec.netvm;
  q.spec.template_dir = spec.template_dir;
  q.template_writable = spec.template_writable;
  q.spec.dispvm = true;
  q.spec.id = ids.qid;
  q.disposable = true;
  q.transient = true;
  q.dispid = ids.dispid;
  QNET_ASSIGN_OR_RETURN(q.addr4, qube::Ipv4ForId(ids.dispid, /*disposable=*/true));
  if (plan.ipv6) {
    QNET_ASSIGN_OR_RETURN(IpAddr a6, qube::Ipv6ForId(ids.dispid, /*disposable=*/true));
    q.addr6 = a6;
  }
  qube::AgentConfig& c = q.agent;
  c.qube = q.spec.name;
  c.role = q.spec.role;
  c.ipv6 = plan.ipv6;
  c.addr4 = q.addr4;
  c.addr6 = q.addr6;
  if (netvm) {
    c.uplink = ClientUplink(plan, q, *netvm);
    const auto dns = qube::VirtualDnsServers();
    c.dns_upstream = {dns[0], dns[1]};
    c.nameservers = {dns[0], dns[1]};
  }
  return q;
}

}  // namespace

Result<const QubePlan*> AddDisposable(Plan& plan, const DisposableSpec& spec, const DispIds& ids) {
  QubePlan* netvm = nullptr;
  if (spec.netvm) {
    for (QubePlan& q : plan.qubes)
      if (q.spec.name == *spec.netvm) netvm = &q;
    if (!netvm)
      return Fail(Errc::kNotFound, fmt::format("netvm '{}' is not in the chain", *spec.netvm));
    if (!qube::ProvidesNetwork(netvm->spec.role))
      return Fail(Errc::kInvalidArgument,
                  fmt::format("qube '{}' ({}) provides no network", *spec.netvm,
                              qube::RoleName(netvm->spec.role)));
  }
  QNET_ASSIGN_OR_RETURN(QubePlan q, PlanDisposable(plan, spec, ids, netvm));
  if (netvm) {
    QNET_ASSIGN_OR_RETURN(std::string vif, qube::VifName(ids.qid));
    const firewall::RuleList rules = spec.firewall.value_or(firewall::RuleList());
    QNET_TRY(firewall::CheckListForNetvm(netvm->spec.role, netvm->spec.name, rules));
    netvm->agent.clients.push_back(
        {.name = q.spec.name, .id = ids.qid, .vif = vif, .addr4 = q.addr4, .addr6 = q.addr6});
    if (spec.firewall) netvm->firewall[q.spec.name] = *spec.firewall;
    netvm->SyncSections();
    plan.links.push_back(
        {.netvm = netvm->spec.name, .client = q.spec.name, .vif = vif, .client_id = ids.qid});
  }
  plan.qubes.push_back(std::move(q));
  return &plan.qubes.back();
}

Status RemoveDisposable(Plan& plan, const std::string& name) {
  auto it = std::find_if(plan.qubes.begin(), plan.qubes.end(),
                         [&](const QubePlan& q) { return q.spec.name == name; });
  if (it == plan.qubes.end())
    return Fail(Errc::kNotFound, fmt::format("no disposable '{}' in the plan", name));
  if (!it->transient)
    return Fail(Errc::kInvalidArgument, fmt::format("qube '{}' is part of the chain", name));
  plan.qubes.erase(it);
  std::erase_if(plan.links, [&](const LinkPlan& l) { return l.client == name; });
  for (QubePlan& q : plan.qubes) {
    const size_t before = q.agent.clients.size();
    std::erase_if(q.agent.clients, [&](const qube::Client& c) { return c.name == name; });
    if (q.agent.clients.size() == before) continue;
    q.firewall.erase(name);
    q.SyncSections();
  }
  return OkStatus();
}

}  // namespace qnet::chain
