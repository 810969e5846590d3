// The lab's echo service (RFC 862) on UDP and TCP: every datagram goes back
// to its sender unchanged; every TCP byte goes back on its connection, which
// closes after 10 s without data. Single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/lab/bind.h"
#include "qnet/lab/connection_budget.h"
#include "qnet/lab/service.h"
#include "qnet/lab/tcp_listener.h"
#include "qnet/lab/udp_responder.h"

namespace qnet::lab {

class EchoServer : public LabService {
 public:
  // Binds UDP and TCP on port at every address and starts serving.
  static Result<std::unique_ptr<EchoServer>> Start(asio::io_context& io,
                                                   const std::vector<BindSpec>& binds,
                                                   uint16_t port);
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

 private:
  EchoServer();
  ConnectionBudget budget_;
  std::vector<std::unique_ptr<UdpResponder>> udp_;
  std::vector<std::unique_ptr<TcpListener>> tcp_;
};

}  // namespace qnet::lab
