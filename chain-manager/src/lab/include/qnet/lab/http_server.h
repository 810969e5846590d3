// The lab web server: HTTP/1.1 on TCP whose every reply body is the client's
// source address and "\n" (see http_response.h). A request head is bounded
// to kMaxRequestHead bytes and must arrive, and the reply leave, within 10 s;
// each connection carries one request. Single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/lab/bind.h"
#include "qnet/lab/connection_budget.h"
#include "qnet/lab/service.h"
#include "qnet/lab/tcp_listener.h"

namespace qnet::lab {

class HttpServer : public LabService {
 public:
  // Listens on port at every address and starts serving; the error names
  // the address that could not be bound.
  static Result<std::unique_ptr<HttpServer>> Start(asio::io_context& io,
                                                   const std::vector<BindSpec>& binds,
                                                   uint16_t port);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

 private:
  HttpServer();
  ConnectionBudget budget_;
  std::vector<std::unique_ptr<TcpListener>> listeners_;
};

}  // namespace qnet::lab
