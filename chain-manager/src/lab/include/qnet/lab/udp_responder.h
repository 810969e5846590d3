// Receive loop shared by the lab's UDP servers: for each datagram, asks a
// callback for the reply and sends it back to the sender (nothing when the
// callback returns nullopt; an empty reply is sent as an empty datagram). Single-threaded; the
// socket must be non-blocking, so a full send buffer drops a reply instead of stalling the server.
#pragma once

#include <array>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qnet/lab/bind.h"

namespace qnet::lab {

class UdpResponder {
 public:
  using Handler = std::function<std::optional<std::vector<uint8_t>>(std::span<const uint8_t>,
                                                                    const asio::ip::address&)>;

  UdpResponder(asio::ip::udp::socket socket, std::string name, Handler handler);
  UdpResponder(const UdpResponder&) = delete;
  UdpResponder& operator=(const UdpResponder&) = delete;

  // Starts receiving; runs until the responder is destroyed.
  void Start() { Receive(); }

 private:
  void Receive();

  asio::ip::udp::socket socket_;
  std::string name_;
  Handler handler_;
  asio::ip::udp::endpoint sender_;
  std::array<uint8_t, 65536> buffer_{};
};

}  // namespace qnet::lab
