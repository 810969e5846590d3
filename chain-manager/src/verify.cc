// qnetd's own reading of a qube's table (see verify.h).
#include "verify.h"

#include <cstdio>

#include "qnet/firewall/nft_names.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/lockdown_check.h"
#include "qnet/nft/readback.h"

namespace qnet::chain {
namespace {

Result<nft::TableState> ReadQubeTable(int netns_fd) {
  QNET_ASSIGN_OR_RETURN(netlink::Socket nf,
                        netlink::Socket::OpenInNetns(NETLINK_NETFILTER, netns_fd));
  return nft::ReadTable(nf, nft::Family::kInet, nft::kQnetTableName);
}

}  // namespace

Status VerifyQubeLockdown(int netns_fd, const std::string& qube) {
  auto state = ReadQubeTable(netns_fd);
  if (!state) return Fail(state.error().Wrap(fmt::format("qube {}: lockdown not verified", qube)));
  if (Status s = nft::VerifyLockdown(*state); !s)
    return Fail(s.error().Wrap(fmt::format("qube {}: lockdown not verified", qube)));
  return OkStatus();
}

Result<DropCounters> ReadDropCounters(int netns_fd) {
  QNET_ASSIGN_OR_RETURN(nft::TableState state, ReadQubeTable(netns_fd));
  DropCounters d;
  auto get = [&](nft::Hook h) -> uint64_t {
    const nft::CounterState* c = state.FindCounter(nft::DropCounterName(h));
    return c ? c->packets : 0;
  };
  d.input = get(nft::Hook::kInput);
  d.forward = get(nft::Hook::kForward);
  d.output = get(nft::Hook::kOutput);
  return d;
}

Result<std::map<int, uint64_t>> ReadRuleHits(int netns_fd, uint32_t client_id) {
  QNET_ASSIGN_OR_RETURN(nft::TableState state, ReadQubeTable(netns_fd));
  std::map<int, uint64_t> hits;
  // Both families' chains: a rule without a family counts in each.
  for (const nft::ChainState& chain : state.chains) {
    if (!firewall::IsClientObject(client_id, chain.chain.name)) continue;
    for (const nft::RuleState& rs : chain.rules) {
      int number = -1;
      if (!rs.rule.comment || std::sscanf(rs.rule.comment->c_str(), "rule %d", &number) != 1)
        continue;
      for (const nft::Expr& e : rs.rule.exprs)
        if (const auto* c = std::get_if<nft::Counter>(&e)) hits[number] += c->packets;
    }
  }
  return hits;
}

}  // namespace qnet::chain
