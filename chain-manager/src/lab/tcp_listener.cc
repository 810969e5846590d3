#include "qnet/lab/tcp_listener.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace qnet::lab {
namespace {

constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

}  // namespace

TcpListener::TcpListener(asio::ip::tcp::acceptor acceptor, ConnectionBudget* budget,
                         std::string name, OnConnection on_connection)
    : acceptor_(std::move(acceptor)),
      retry_(acceptor_.get_executor()),
      budget_(budget),
      name_(std::move(name)),
      on_connection_(std::move(on_connection)) {}

void TcpListener::Accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // Errors like EMFILE repeat at once; waiting keeps the loop from spinning.
      spdlog::warn("{} accept: {}", name_, ec.message());
      retry_.expires_after(kAcceptRetryDelay);
      retry_.async_wait([this](const boost::system::error_code& wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    ConnectionSlot slot = budget_->TryAcquire();
    if (slot.valid()) {
      on_connection_(std::move(s), std::move(slot));
    } else {
      spdlog::debug("{}: connection limit reached, closing a new connection", name_);
    }
    Accept();
  });
}

}  // namespace qnet::lab
