// The seam between building a transaction and sending it: whatever changes
// a qube's rules takes a Committer, so that tests script the kernel's
// refusals (the fail-closed paths) without root.
#pragma once

#include <chrono>

#include "qnet/base/result.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/batch.h"

namespace qnet::nft {

class Committer {
 public:
  virtual ~Committer() = default;
  // Sends `batch` as one transaction; errors as nft::Commit (the kernel
  // applied nothing).
  virtual Status Commit(const Batch& batch) = 0;
};

// The real one: nft::Commit on a NETLINK_NETFILTER socket of the namespace
// whose rules change. Borrows the socket, which must outlive it.
class SocketCommitter final : public Committer {
 public:
  explicit SocketCommitter(netlink::Socket& nfsock,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : nfsock_(nfsock), timeout_(timeout) {}
  SocketCommitter(const SocketCommitter&) = delete;
  SocketCommitter& operator=(const SocketCommitter&) = delete;

  Status Commit(const Batch& batch) override;

 private:
  netlink::Socket& nfsock_;
  std::chrono::milliseconds timeout_;
};

}  // namespace qnet::nft
