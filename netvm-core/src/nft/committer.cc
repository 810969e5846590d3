#include "qnet/nft/committer.h"

#include "qnet/nft/transaction.h"

namespace qnet::nft {

Status SocketCommitter::Commit(const Batch& batch) { return nft::Commit(nfsock_, batch, timeout_); }

}  // namespace qnet::nft
