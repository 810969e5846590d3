#include "qnet/lab/udp_responder.h"

#include <spdlog/spdlog.h>

namespace qnet::lab {
namespace {

// Errors after which the socket can keep receiving (ICMP reports queued on
// it); any other error stops this socket rather than spin on it.
bool IsTransient(const boost::system::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::connection_reset ||
         ec == asio::error::would_block || ec == asio::error::interrupted ||
         ec == asio::error::host_unreachable || ec == asio::error::network_unreachable;
}

}  // namespace

UdpResponder::UdpResponder(asio::ip::udp::socket socket, std::string name, Handler handler)
    : socket_(std::move(socket)), name_(std::move(name)), handler_(std::move(handler)) {}

void UdpResponder::Receive() {
  socket_.async_receive_from(
      asio::buffer(buffer_), sender_, [this](const boost::system::error_code& ec, size_t n) {
        if (ec == asio::error::operation_aborted) return;
        if (ec && !IsTransient(ec)) {
          spdlog::error("{} udp receive: {}; this socket stops", name_, ec.message());
          return;
        }
        if (!ec) {
          auto reply = handler_(std::span<const uint8_t>(buffer_.data(), n), sender_.address());
          boost::system::error_code send_ec;
          if (reply) socket_.send_to(asio::buffer(*reply), sender_, 0, send_ec);
          if (send_ec) spdlog::debug("{} udp send: {}", name_, send_ec.message());
        }
        Receive();
      });
}

}  // namespace qnet::lab
