#include "qnet/chain/plan.h"

#include "qnet/chain/lab.h"
#include "qnet/config/topology.h"
#include "qnet/firewall/config_key.h"
#include "qnet/qube/address.h"
#include "qnet/qube/role.h"
#include "qnet/tor/capability.h"
#include "qnet/tor/config_key.h"

namespace qnet::chain {

void QubePlan::SyncSections() {
  if (!qube::ProvidesNetwork(spec.role)) return;
  agent.sections[std::string(firewall::kCapabilityName)] = firewall::ClientListsToJson(firewall);
}

const QubePlan* Plan::Find(std::string_view name) const {
  for (const auto& q : qubes)
    if (q.spec.name == name) return &q;
  return nullptr;
}

namespace {

Result<qube::Uplink> UplinkFor(const Plan& plan, const QubePlan& q) {
  qube::Uplink u;
  if (q.spec.role == qube::Role::kNet) {
    if (!plan.lab)
      return Fail(Errc::kInvalidArgument,
                  fmt::format("qube {}: a net qube needs the [lab] uplink (a real uplink is not "
                              "supported yet)",
                              q.spec.name));
    u.ifname = lab::kSysNetUplinkIf;
    u.addr4 = lab::kSysNetUplink4;
    u.gateway4 = lab::kRouterUplink4.addr();
    if (plan.ipv6) {
      u.addr6 = lab::kSysNetUplink6;
      u.gateway6 = lab::kRouterUplink6.addr();
    }
    return u;
  }
  const QubePlan* netvm = plan.Find(*q.spec.netvm);
  if (!netvm) return Fail(Errc::kInternal, fmt::format("qube {}: netvm not planned", q.spec.name));
  return ClientUplink(plan, q, *netvm);
}

// The gateway's `tor` section: the chain file's allow-listed options.
Status PlanTorSection(QubePlan& q, bool lab) {
  tor::GatewaySection section;
  section.lab = lab;
  if (const config::Value::Member* m = config::FindMember(q.spec.extra, tor::kTorKey)) {
    auto options = tor::TorOptionsFromValue(m->value);
    if (!options)
      return Fail(
          options.error().Wrap(fmt::format("{}: qube.{}.tor", m->key_pos.ToString(), q.spec.name)));
    section.options = std::move(*options);
  }
  q.agent.sections[std::string(tor::kCapability)] = tor::GatewaySectionToJson(section);
  return OkStatus();
}

}  // namespace

qube::Uplink ClientUplink(const Plan& plan, const QubePlan& q, const QubePlan& netvm) {
  qube::Uplink u;
  u.ifname = std::string(qube::kClientIfName);
  u.addr4 = IpPrefix::Host(q.addr4);
  u.gateway4 = netvm.addr4;
  if (plan.ipv6 && q.addr6 && netvm.addr6) {
    u.addr6 = IpPrefix::Host(*q.addr6);
    u.gateway6 = *netvm.addr6;
  }
  u.gateway_mac = qube::kVifMac;
  return u;
}

Result<Plan> BuildPlan(const config::ChainSpec& spec, int64_t now) {
  Plan plan;
  plan.chain_name = spec.name;
  plan.ipv6 = spec.ipv6 == config::Ipv6Mode::kRouted;
  plan.lab = spec.lab.has_value();
  QNET_ASSIGN_OR_RETURN(std::vector<std::string> order, config::TopologicalOrder(spec));
  for (const std::string& name : order) {
    const config::QubeSpec* qs = spec.FindQube(name);
    QubePlan q;
    q.spec = *qs;
    // A named disposable is a Qubes DispVM: its id is also its dispid.
    q.disposable = qs->dispvm;
    q.dispid = qs->dispvm ? qs->id : 0;
    QNET_ASSIGN_OR_RETURN(q.addr4, qube::Ipv4ForId(qs->id, q.disposable));
    if (plan.ipv6) {
      QNET_ASSIGN_OR_RETURN(IpAddr a6, qube::Ipv6ForId(qs->id, q.disposable));
      q.addr6 = a6;
    }
    plan.qubes.push_back(std::move(q));
  }
  const auto dns = qube::VirtualDnsServers();
  for (QubePlan& q : plan.qubes) {
    qube::AgentConfig& c = q.agent;
    c.qube = q.spec.name;
    c.role = q.spec.role;
    c.ipv6 = plan.ipv6;
    c.addr4 = q.addr4;
    c.addr6 = q.addr6;
    QNET_ASSIGN_OR_RETURN(qube::Uplink u, UplinkFor(plan, q));
    c.uplink = u;
    if (q.spec.role == qube::Role::kTor) QNET_TRY(PlanTorSection(q, plan.lab));
    if (q.spec.role == qube::Role::kNet) {
      c.dns_upstream = {lab::kDns4};
      c.nameservers = {lab::kDns4};
    } else {
      c.dns_upstream = {dns[0], dns[1]};
      c.nameservers = {dns[0], dns[1]};
    }
    for (const std::string& client : config::ClientsOf(spec, q.spec.name)) {
      const config::QubeSpec* cs = spec.FindQube(client);
      QNET_ASSIGN_OR_RETURN(std::string vif, qube::VifName(cs->id));
      qube::Client cl{.name = client, .id = cs->id, .vif = vif};
      // The client's rules are enforced by this, its netvm (as in Qubes).
      if (const config::Value::Member* fw = config::FindMember(cs->extra, firewall::kFirewallKey)) {
        auto rules = firewall::RuleListFromValue(fw->value, now);
        if (!rules) return Fail(rules.error().Wrap(fmt::format("qube {}: firewall", client)));
        // Refused here, before anything exists.
        if (Status s = firewall::CheckListForNetvm(q.spec.role, q.spec.name, *rules); !s)
          return Fail(
              s.error().Wrap(fmt::format("{}: qube.{}.firewall", fw->key_pos.ToString(), client)));
        q.firewall[client] = std::move(*rules);
      }
      const QubePlan* cp = plan.Find(client);
      if (!cp) return Fail(Errc::kInternal, fmt::format("qube {}: not planned", client));
      cl.addr4 = cp->addr4;
      if (plan.ipv6) cl.addr6 = cp->addr6;
      c.clients.push_back(cl);
      plan.links.push_back(
          {.netvm = q.spec.name, .client = client, .vif = vif, .client_id = cs->id});
    }
  }
  for (QubePlan& q : plan.qubes) q.SyncSections();
  return plan;
}

}  // namespace qnet::chain
