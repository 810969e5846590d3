#include "qnet/lab/http_server.h"

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>

#include "qnet/lab/http_response.h"

namespace qnet::lab {
namespace {

using asio::ip::tcp;

constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr auto kDrainTimeout = std::chrono::seconds(2);
constexpr size_t kMaxDrainBytes = 1 << 20;
constexpr size_t kMaxHttpConnections = 256;

// One request on one connection: read the head, reply, then linger.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, ConnectionSlot slot)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), slot_(std::move(slot)) {}

  void Start() {
    boost::system::error_code ec;
    peer_ = socket_.remote_endpoint(ec).address();
    if (ec) return;
    ArmTimer(kRequestTimeout);
    ReadHead();
  }

 private:
  void ArmTimer(std::chrono::steady_clock::duration after) {
    timer_.expires_after(after);
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
  }

  void ReadHead() {
    socket_.async_read_some(
        asio::buffer(chunk_),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
          if (ec) return;
          self->head_.append(self->chunk_.data(), n);
          auto end = FindHeadEnd(self->head_);
          if (end && *end <= kMaxRequestHead) {
            self->Reply(ReplyForRequest(std::string_view(self->head_).substr(0, *end),
                                        AddressText(self->peer_)));
          } else if (end || self->head_.size() > kMaxRequestHead) {
            self->Reply(ReplyForOversizeHead());
          } else {
            self->ReadHead();
          }
        });
  }

  void Reply(std::string reply) {
    out_ = std::move(reply);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        if (ec) return;
                        boost::system::error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                        self->ArmTimer(kDrainTimeout);
                        self->Drain();
                      });
  }

  // Closing with unread request bytes (a POST body, say) makes the kernel
  // send RST, which can destroy the reply before the client reads it; so read
  // and discard until the client closes, for a bounded time and size.
  void Drain() {
    socket_.async_read_some(
        asio::buffer(chunk_),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
          self->drained_ += n;
          if (ec || self->drained_ > kMaxDrainBytes) return;
          self->Drain();
        });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  ConnectionSlot slot_;
  asio::ip::address peer_;
  std::array<char, 4096> chunk_{};
  std::string head_;
  std::string out_;
  size_t drained_ = 0;
};

}  // namespace

HttpServer::HttpServer() : budget_(kMaxHttpConnections) {}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(asio::io_context& io,
                                                      const std::vector<BindSpec>& binds,
                                                      uint16_t port) {
  QNET_ASSIGN_OR_RETURN(auto acceptors, ListenTcpAll(io, binds, port));
  std::unique_ptr<HttpServer> server(new HttpServer());
  for (auto& a : acceptors) {
    server->listeners_.push_back(std::make_unique<TcpListener>(
        std::move(a), &server->budget_, "http", [](tcp::socket s, ConnectionSlot slot) {
          std::make_shared<HttpSession>(std::move(s), std::move(slot))->Start();
        }));
    server->listeners_.back()->Start();
  }
  return server;
}

}  // namespace qnet::lab
