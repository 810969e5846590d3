// Reading a table back from the kernel, and the pure checks made on it.
//
// ReadTable dumps one table (chains, rules, sets with their elements, named
// counters) over a NETLINK_NETFILTER socket and decodes it into values. The
// dump is consistent: it is retried (a few times) when the ruleset generation
// changes while it runs. Rules decode to the Expr values of ruleset.h;
// expressions qnet does not model come back as Unsupported{"<kind>"}.
// Not thread-safe: one user of the socket at a time.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/ruleset.h"

namespace qnet::nft {

struct RuleState {
  Rule rule;
  uint64_t handle = 0;
};

struct ChainState {
  Chain chain;
  uint64_t handle = 0;
  std::vector<RuleState> rules;  // kernel (evaluation) order
};

struct SetState {
  Set set;
  uint64_t handle = 0;
  // Ranges of interval sets come back as one element with key_end.
  std::vector<SetElement> elements;
};

struct CounterState {
  std::string name;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t handle = 0;
};

struct TableState {
  Table table;
  uint64_t handle = 0;
  std::vector<ChainState> chains;  // kernel order
  std::vector<SetState> sets;
  std::vector<CounterState> counters;

  // nullptr when absent.
  const ChainState* FindChain(std::string_view name) const;
  const SetState* FindSet(std::string_view name) const;
  const CounterState* FindCounter(std::string_view name) const;
};

// Errors: kNotFound when the table does not exist; kNetlink for other kernel
// errors; kProtocol for a message that does not parse.
Result<TableState> ReadTable(netlink::Socket& nfsock, Family family, std::string_view name);
// false when the kernel says ENOENT; errors otherwise.
Result<bool> TableExists(netlink::Socket& nfsock, Family family, std::string_view name);

}  // namespace qnet::nft
