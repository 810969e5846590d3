#include "lockdown.h"

#include "qnet/nft/base_table.h"
#include "qnet/nft/readback.h"

namespace qnet::agent {

Status Lockdown(netlink::Socket& nf, nft::Committer& nft, bool* created) {
  QNET_ASSIGN_OR_RETURN(bool exists, nft::TableExists(nf, nft::Family::kInet, nft::kQnetTableName));
  *created = !exists;
  if (exists) return OkStatus();
  if (Status s = nft.Commit(nft::LockdownBatch()); !s) return Fail(s.error().Wrap("lockdown"));
  return OkStatus();
}

}  // namespace qnet::agent
