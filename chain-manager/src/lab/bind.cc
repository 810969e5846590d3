#include "qnet/lab/bind.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/ip/v6_only.hpp>
#include <fmt/format.h>

namespace qnet::lab {
namespace {

Error SocketError(std::string_view proto, const asio::ip::address& address, uint16_t port,
                  const boost::system::error_code& ec) {
  std::string where = address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), port)
                                      : fmt::format("{}:{}", address.to_string(), port);
  return Error(Errc::kIo, fmt::format("{} {}: {}", proto, where, ec.message()), ec.value());
}

// Lets a specific address be bound before the namespace has it (or while
// IPv6 DAD is still running); harmless for the wildcard.
void SetFreeBind(int fd, bool v6) {
  int one = 1;
  if (v6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
  } else {
    ::setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
  }
}

template <typename Socket, typename Protocol>
boost::system::error_code OpenAndBind(Socket& s, const asio::ip::address& address, uint16_t port,
                                      bool reuse) {
  boost::system::error_code ec;
  Protocol proto = address.is_v6() ? Protocol::v6() : Protocol::v4();
  s.open(proto, ec);
  if (ec) return ec;
  if (address.is_v6()) s.set_option(asio::ip::v6_only(true), ec);
  if (!ec && reuse) s.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return ec;
  SetFreeBind(s.native_handle(), address.is_v6());
  s.bind(typename Protocol::endpoint(address, port), ec);
  return ec;
}

}  // namespace

Result<std::vector<BindSpec>> ResolveBindSpecs(const std::vector<std::string>& texts) {
  std::vector<BindSpec> specs;
  if (texts.empty()) {
    specs.push_back({asio::ip::address_v4::any(), false});
    specs.push_back({asio::ip::address_v6::any(), true});
    return specs;
  }
  for (const auto& text : texts) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(text, ec);
    if (ec) return Fail(Errc::kInvalidArgument, fmt::format("--bind: '{}' is not an address", text));
    specs.push_back({address, false});
  }
  return specs;
}

Result<asio::ip::udp::socket> BindUdp(asio::io_context& io, const asio::ip::address& address,
                                      uint16_t port) {
  asio::ip::udp::socket s(io);
  auto ec = OpenAndBind<asio::ip::udp::socket, asio::ip::udp>(s, address, port, false);
  if (!ec) s.non_blocking(true, ec);
  if (ec) return SocketError("udp", address, port, ec);
  return s;
}

Result<asio::ip::tcp::acceptor> ListenTcp(asio::io_context& io, const asio::ip::address& address,
                                          uint16_t port) {
  asio::ip::tcp::acceptor a(io);
  auto ec = OpenAndBind<asio::ip::tcp::acceptor, asio::ip::tcp>(a, address, port, true);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return SocketError("tcp", address, port, ec);
  return a;
}

std::string AddressText(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

bool IsFamilyUnavailable(const Error& err) {
  return err.sys_errno() == EAFNOSUPPORT || err.sys_errno() == EADDRNOTAVAIL ||
         err.sys_errno() == EPROTONOSUPPORT;
}

}  // namespace qnet::lab
