// Helpers for the nft unit tests: walking an encoded batch, printing values.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>

#include <ostream>
#include <vector>

#include "qnet/nft/batch.h"
#include "qnet/nft/ruleset.h"

namespace qnet::nft {

inline void PrintTo(const Expr& e, std::ostream* os) { *os << ToString(e); }
inline void PrintTo(const Rule& r, std::ostream* os) { *os << ToString(r); }
inline void PrintTo(const Chain& c, std::ostream* os) { *os << ToString(c); }

// The nf_tables message type of nlh (NFT_MSG_*), or the batch type.
inline uint16_t MsgType(const nlmsghdr* nlh) {
  return static_cast<uint16_t>(nlh->nlmsg_type & 0xff);
}

// Every netlink message in an encoded batch, in order.
inline std::vector<const nlmsghdr*> Messages(const std::vector<uint8_t>& bytes) {
  std::vector<const nlmsghdr*> out;
  int left = static_cast<int>(bytes.size());
  for (auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes.data()); mnl_nlmsg_ok(nlh, left);
       nlh = mnl_nlmsg_next(nlh, &left))
    out.push_back(nlh);
  return out;
}

// The messages between BATCH_BEGIN and BATCH_END.
inline std::vector<const nlmsghdr*> Body(const std::vector<uint8_t>& bytes) {
  std::vector<const nlmsghdr*> all = Messages(bytes);
  if (all.size() < 2) return {};
  return std::vector<const nlmsghdr*>(all.begin() + 1, all.end() - 1);
}

}  // namespace qnet::nft
