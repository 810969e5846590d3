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

// True when state holds the lockdown of DESIGN.md contract 1/4: filter base
// chains input, forward and output exist on their hooks with policy drop,
// each ends in the rule `counter name "drop-<hook>" drop`, holds before it
// only its fixed rules (BaseChainRules) and jumps into capability chains of
// its hook (nothing that accepts early), and those named counters exist. The error (kFailedPrecondition) lists every problem, e.g.
// "lockdown of inet qnet incomplete: chain forward missing; chain output
// policy is accept, want drop".
Status VerifyLockdown(const TableState& state);

// ---- Pure decoders of NFT_MSG_NEW* messages (dump replies or the messages
// Batch encodes); kProtocol when the message does not parse. ----
Result<ChainState> DecodeChain(const nlmsghdr* nlh);
Result<RuleState> DecodeRule(const nlmsghdr* nlh);
Result<SetState> DecodeSet(const nlmsghdr* nlh);  // without elements
// The elements of NEWSETELEM messages of one set, described by `set`. For
// interval sets, the kernel's start/end elements are merged back into ranges
// (a range of one value comes back as a plain key, without key_end).
Result<std::vector<SetElement>> DecodeSetElements(const Set& set,
                                                  const std::vector<const nlmsghdr*>& messages);
Result<CounterState> DecodeCounter(const nlmsghdr* nlh);

}  // namespace qnet::nft
