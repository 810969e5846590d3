// Socket setup shared by the lab's servers: which addresses to bind, and
// bound UDP sockets and listening TCP acceptors as values. All errors come
// back as qnet::Error; no Boost exception escapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "qnet/base/result.h"

namespace qnet::lab {

namespace asio = boost::asio;

struct BindSpec {
  asio::ip::address address;
  // A default address that may be skipped when its family is unavailable
  // (IPv6 disabled in the namespace).
  bool optional = false;
};

// The --bind list parsed, or, when it is empty, 0.0.0.0 and :: (optional).
// kInvalidArgument names a text that is not an address.
Result<std::vector<BindSpec>> ResolveBindSpecs(const std::vector<std::string>& texts);

// A UDP socket bound to address:port, non-blocking. IPv6 sockets are
// v6-only (the IPv4 wildcard gets its own socket); a specific address may be
// bound before it is configured (IP_FREEBIND), so start-up does not wait for
// IPv6 duplicate address detection. Error message "udp ADDR:PORT: ...".
Result<asio::ip::udp::socket> BindUdp(asio::io_context& io, const asio::ip::address& address,
                                      uint16_t port);
// A listening TCP acceptor, same rules, SO_REUSEADDR. "tcp ADDR:PORT: ...".
Result<asio::ip::tcp::acceptor> ListenTcp(asio::io_context& io, const asio::ip::address& address,
                                          uint16_t port);

// Binds one socket per spec with bind_one, skipping an optional spec whose
// family is unsupported. Fails on the first other error.
template <typename Socket, typename BindOne>
Result<std::vector<Socket>> BindAll(const std::vector<BindSpec>& specs, BindOne bind_one);

// An address as the lab reports it: IPv4-mapped IPv6 addresses as IPv4.
std::string AddressText(const asio::ip::address& address);

// True when err says the address family is not available here.
bool IsFamilyUnavailable(const Error& err);

template <typename Socket, typename BindOne>
Result<std::vector<Socket>> BindAll(const std::vector<BindSpec>& specs, BindOne bind_one) {
  std::vector<Socket> out;
  for (const auto& spec : specs) {
    auto s = bind_one(spec.address);
    if (!s) {
      if (spec.optional && IsFamilyUnavailable(s.error())) continue;
      return Fail(std::move(s).error());
    }
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace qnet::lab
