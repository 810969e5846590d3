// `qnet tor QUBE status|circuits|newnym`: qnetd asks the gateway's agent
// (its qnet.Tor call) and adds the gateway's tor counters, read from the
// qube's table by qnetd itself.
#include <nlohmann/json.hpp>

#include "daemon.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/readback.h"
#include "qnet/tor/transparent_rules.h"

namespace qnet::chain {
namespace {

constexpr std::string_view kTorCalls[] = {"status", "circuits", "newnym"};

// Packets of the tor capability's named counters; empty when unreadable.
nlohmann::json TorCounters(int netns_fd) {
  nlohmann::json out = nlohmann::json::object();
  auto nf = netlink::Socket::OpenInNetns(NETLINK_NETFILTER, netns_fd);
  if (!nf) return out;
  auto state = nft::ReadTable(*nf, nft::Family::kInet, nft::kQnetTableName);
  if (!state) return out;
  for (std::string_view name : {tor::kRefusedCounter, tor::kDownstreamDropCounter,
                                tor::kForwardDropCounter, tor::kUplinkDropCounter})
    if (const nft::CounterState* c = state->FindCounter(std::string(name)))
      out[std::string(name)] = c->packets;
  return out;
}

}  // namespace

Result<std::string> Daemon::Tor(const std::string& qube, const std::string& op) {
  {
    std::lock_guard lock(mu_);
    const QubePlan* q = plan_ ? plan_->Find(qube) : nullptr;
    if (!q) return Fail(Errc::kNotFound, fmt::format("no qube '{}' in the chain", qube));
    if (q->spec.role != qube::Role::kTor)
      return Fail(Errc::kInvalidArgument, fmt::format("{} is not a tor gateway (role {})", qube,
                                                      qube::RoleName(q->spec.role)));
  }
  if (std::find(std::begin(kTorCalls), std::end(kTorCalls), op) == std::end(kTorCalls))
    return Fail(Errc::kInvalidArgument,
                fmt::format("tor: unknown operation '{}' (status, circuits, newnym)", op));
  auto proc = FindQube(qube);
  if (!proc) return Fail(Errc::kNotFound, fmt::format("qube '{}' is not running", qube));
  QNET_ASSIGN_OR_RETURN(auto r, proc->Call("qnet.Tor", "", kCallTimeout, {}, op));
  if (r.exit_code != 0) return Fail(Errc::kFailedPrecondition, FailureText(r));
  if (op != "status") return r.stdout_data;
  auto j = nlohmann::json::parse(r.stdout_data, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Fail(Errc::kProtocol,
                fmt::format("qube {}: qnet.Tor status is not a JSON object", qube));
  j["qube"] = qube;
  j["counters"] = TorCounters(proc->netns_fd());
  return j.dump() + "\n";
}

}  // namespace qnet::chain
