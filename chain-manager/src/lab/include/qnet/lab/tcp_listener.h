// Accept loop shared by the lab's TCP servers: hands each accepted socket,
// with a slot from the server's ConnectionBudget, to a callback; closes
// connections over budget; paces retries after accept errors (EMFILE).
// Single-threaded; the budget must outlive the listener.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>

#include "qnet/lab/bind.h"
#include "qnet/lab/connection_budget.h"

namespace qnet::lab {

class TcpListener {
 public:
  using OnConnection = std::function<void(asio::ip::tcp::socket, ConnectionSlot)>;

  // name prefixes log lines ("http", "echo", "dns").
  TcpListener(asio::ip::tcp::acceptor acceptor, ConnectionBudget* budget, std::string name,
              OnConnection on_connection);
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // Starts accepting; runs until the listener is destroyed.
  void Start() { Accept(); }

 private:
  void Accept();

  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  ConnectionBudget* budget_;
  std::string name_;
  OnConnection on_connection_;
};

}  // namespace qnet::lab
