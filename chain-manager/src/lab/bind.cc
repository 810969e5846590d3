#include "qnet/lab/bind.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/ip/v6_only.hpp>
#include <cerrno>

namespace qnet::lab {
namespace {

Error SocketError(std::string_view proto, const asio::ip::address& address, uint16_t port,
                  const boost::system::error_code& ec) {
  std::string where = address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), port)
                                      : fmt::format("{}:{}", address.to_string(), port);
  return Error(Errc::kIo, fmt::format("{} {}: {}", proto, where, ec.message()), ec.value());
}

bool IsFamilyUnavailable(const boost::system::error_code& ec) {
  return ec.value() == EAFNOSUPPORT || ec.value() == EADDRNOTAVAIL || ec.value() == EPROTONOSUPPORT;
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
boost::system::error_code OpenAndBind(Socket& s, const BindSpec& spec, uint16_t port, bool reuse) {
  boost::system::error_code ec;
  bool v6 = spec.address.is_v6();
  s.open(v6 ? Protocol::v6() : Protocol::v4(), ec);
  if (ec) return ec;
  if (v6) s.set_option(asio::ip::v6_only(spec.v6_only), ec);
  if (!ec && reuse) s.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return ec;
  SetFreeBind(s.native_handle(), v6);
  s.bind(typename Protocol::endpoint(spec.address, port), ec);
  return ec;
}

}  // namespace

Result<std::vector<BindSpec>> ResolveBindSpecs(const std::vector<std::string>& texts) {
  std::vector<BindSpec> specs;
  if (texts.empty()) {
    specs.push_back({asio::ip::address_v4::any(), false, true});
    specs.push_back({asio::ip::address_v6::any(), true, true});
    return specs;
  }
  for (const auto& text : texts) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(text, ec);
    if (ec)
      return Fail(Errc::kInvalidArgument, fmt::format("--bind: '{}' is not an address", text));
    specs.push_back({address, false, true});
  }
  bool has_v4_any = std::any_of(specs.begin(), specs.end(), [](const BindSpec& s) {
    return s.address == asio::ip::address(asio::ip::address_v4::any());
  });
  for (auto& s : specs) {
    if (s.address == asio::ip::address(asio::ip::address_v6::any())) s.v6_only = has_v4_any;
  }
  return specs;
}

Result<std::vector<asio::ip::udp::socket>> BindUdpAll(asio::io_context& io,
                                                      const std::vector<BindSpec>& specs,
                                                      uint16_t port) {
  std::vector<asio::ip::udp::socket> out;
  for (const auto& spec : specs) {
    asio::ip::udp::socket s(io);
    auto ec = OpenAndBind<asio::ip::udp::socket, asio::ip::udp>(s, spec, port, false);
    if (!ec) s.non_blocking(true, ec);
    if (ec && spec.optional && IsFamilyUnavailable(ec)) continue;
    if (ec) return SocketError("udp", spec.address, port, ec);
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<asio::ip::tcp::acceptor>> ListenTcpAll(asio::io_context& io,
                                                          const std::vector<BindSpec>& specs,
                                                          uint16_t port) {
  std::vector<asio::ip::tcp::acceptor> out;
  for (const auto& spec : specs) {
    asio::ip::tcp::acceptor a(io);
    auto ec = OpenAndBind<asio::ip::tcp::acceptor, asio::ip::tcp>(a, spec, port, true);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec && spec.optional && IsFamilyUnavailable(ec)) continue;
    if (ec) return SocketError("tcp", spec.address, port, ec);
    out.push_back(std::move(a));
  }
  return out;
}

std::string AddressText(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

}  // namespace qnet::lab
