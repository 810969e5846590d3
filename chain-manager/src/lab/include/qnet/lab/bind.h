// Socket setup shared by the lab's servers: which addresses to bind, and
// bound UDP sockets and listening TCP acceptors as values. All errors come
// back as qnet::Error; no Boost exception escapes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "qnet/base/result.h"

namespace qnet::lab {

namespace asio = boost::asio;

struct BindSpec {
  asio::ip::address address;
  // A default address that is skipped when its family is unavailable here
  // (IPv6 disabled in the namespace).
  bool optional = false;
  // For IPv6 sockets: accept IPv6 only. False makes "::" dual-stack, its
  // IPv4 clients seen as IPv4-mapped addresses.
  bool v6_only = true;
};

// The --bind list parsed; when it is empty, 0.0.0.0 and :: (v6-only,
// optional). An explicit "::" without "0.0.0.0" is dual-stack, so
// "--bind ::" alone also serves IPv4. kInvalidArgument names a text that is
// not an address.
Result<std::vector<BindSpec>> ResolveBindSpecs(const std::vector<std::string>& texts);

// One non-blocking UDP socket per spec, bound to port. A specific address
// may be bound before it is configured (IP_FREEBIND), so start-up does not
// wait for IPv6 duplicate address detection. Optional specs whose family is
// unavailable are skipped. The error names "udp ADDR:PORT".
Result<std::vector<asio::ip::udp::socket>> BindUdpAll(asio::io_context& io,
                                                      const std::vector<BindSpec>& specs,
                                                      uint16_t port);
// One listening TCP acceptor per spec (SO_REUSEADDR), same rules;
// the error names "tcp ADDR:PORT".
Result<std::vector<asio::ip::tcp::acceptor>> ListenTcpAll(asio::io_context& io,
                                                          const std::vector<BindSpec>& specs,
                                                          uint16_t port);

// An address as the lab reports it: IPv4-mapped IPv6 addresses as IPv4.
std::string AddressText(const asio::ip::address& address);

}  // namespace qnet::lab
