// Pure decoders of NFT_MSG_NEW* messages (dump replies, or the messages
// Batch encodes) into the values of readback.h; kProtocol when a message
// does not parse.
#pragma once

#include <linux/netlink.h>

#include <vector>

#include "qnet/base/result.h"
#include "qnet/nft/readback.h"

namespace qnet::nft {

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
