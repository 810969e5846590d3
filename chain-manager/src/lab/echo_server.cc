#include "qnet/lab/echo_server.h"

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

namespace qnet::lab {
namespace {

using asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(10);
constexpr size_t kMaxEchoConnections = 256;

class EchoSession : public std::enable_shared_from_this<EchoSession> {
 public:
  EchoSession(tcp::socket socket, ConnectionSlot slot)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), slot_(std::move(slot)) {}

  void Start() { Read(); }

 private:
  void Read() {
    timer_.expires_after(kIdleTimeout);
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
    socket_.async_read_some(
        asio::buffer(buffer_),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
          if (ec) return;
          asio::async_write(self->socket_, asio::buffer(self->buffer_.data(), n),
                            [self](const boost::system::error_code& write_ec, size_t) {
                              if (!write_ec) self->Read();
                            });
        });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  ConnectionSlot slot_;
  std::array<uint8_t, 16384> buffer_{};
};

}  // namespace

EchoServer::EchoServer() : budget_(kMaxEchoConnections) {}

Result<std::unique_ptr<EchoServer>> EchoServer::Start(asio::io_context& io,
                                                      const std::vector<BindSpec>& binds,
                                                      uint16_t port) {
  QNET_ASSIGN_OR_RETURN(auto udp_sockets, BindUdpAll(io, binds, port));
  QNET_ASSIGN_OR_RETURN(auto acceptors, ListenTcpAll(io, binds, port));
  std::unique_ptr<EchoServer> server(new EchoServer());
  for (auto& s : udp_sockets) {
    server->udp_.push_back(std::make_unique<UdpResponder>(
        std::move(s), "echo",
        [](std::span<const uint8_t> data,
           const asio::ip::address&) -> std::optional<std::vector<uint8_t>> {
          return std::vector<uint8_t>(data.begin(), data.end());
        }));
    server->udp_.back()->Start();
  }
  for (auto& a : acceptors) {
    server->tcp_.push_back(std::make_unique<TcpListener>(
        std::move(a), &server->budget_, "echo", [](tcp::socket s, ConnectionSlot slot) {
          std::make_shared<EchoSession>(std::move(s), std::move(slot))->Start();
        }));
    server->tcp_.back()->Start();
  }
  return server;
}

}  // namespace qnet::lab
