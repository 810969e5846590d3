// netlink::Socket: an owned libmnl socket bound to one netlink bus in one
// network namespace, with request/ACK and dump helpers.
//
// A socket belongs to the network namespace it was opened in for its whole
// life; OpenInNetns opens it in another namespace without moving the calling
// process (only the calling thread switches, and switches back).
// Not thread-safe: one thread uses a socket at a time.
#pragma once

#include <libmnl/libmnl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "qnet/base/result.h"

namespace qnet::netlink {

struct MnlSocketDeleter {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using MnlSocketPtr = std::unique_ptr<mnl_socket, MnlSocketDeleter>;

class Socket {
 public:
  // bus: NETLINK_ROUTE, NETLINK_NETFILTER, NETLINK_GENERIC.
  static Result<Socket> Open(int bus);
  // Opens the socket inside the network namespace netns_fd refers to.
  static Result<Socket> OpenInNetns(int bus, int netns_fd);

  Socket(Socket&&) noexcept = default;
  Socket& operator=(Socket&&) noexcept = default;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  mnl_socket* get() const { return sock_.get(); }
  uint32_t port_id() const { return port_id_; }
  // A fresh sequence number for a request.
  uint32_t NextSeq() { return ++seq_; }

  // Sends raw bytes (one message or a batch).
  Status Send(const void* buf, size_t len);
  // Callback per received message; return MNL_CB_OK / MNL_CB_STOP / MNL_CB_ERROR.
  using MessageCallback = std::function<int(const nlmsghdr*)>;
  // Receives until the message with seq is acknowledged (NLMSG_ERROR with
  // error 0) or a dump ends (NLMSG_DONE). A netlink error becomes kNetlink
  // with errno set and the message "what: strerror".
  Status Receive(uint32_t seq, const std::string& what, const MessageCallback& cb = nullptr);
  // Send + Receive for a single request built in buf (nlh->nlmsg_seq set).
  Status Request(const nlmsghdr* nlh, const std::string& what, const MessageCallback& cb = nullptr);

 private:
  Socket(MnlSocketPtr s, uint32_t port_id) : sock_(std::move(s)), port_id_(port_id) {}
  MnlSocketPtr sock_;
  uint32_t port_id_ = 0;
  uint32_t seq_ = 0;
};

// Runs fn with the calling thread in the network namespace netns_fd, then
// switches back. fn must not start threads.
Status RunInNetns(int netns_fd, const std::function<Status()>& fn);

// Gives a kernel (kNetlink) error the code its errno implies: kNotFound
// (ENODEV, ENOENT, ESRCH), kAlreadyExists (EEXIST), kPermissionDenied (EPERM,
// EACCES); anything else is returned unchanged. For every netlink family.
Error ClassifyNetlinkError(Error e);

}  // namespace qnet::netlink
