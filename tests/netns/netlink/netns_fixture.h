// Test fixture: two fresh network namespaces, A and B, pinned at
// /run/netns/qnettest-<pid>-{a,b} and removed when the test ends (also when
// it fails), with a NETLINK_ROUTE socket in each and one in the root
// namespace that the tests only read through.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "qnet/base/fd.h"
#include "qnet/netlink/link.h"
#include "qnet/netlink/socket.h"
#include "qnet/runtime/namespaces.h"

namespace qnet::testing {

inline std::string TestNetnsPath(std::string_view suffix) {
  return fmt::format("/run/netns/qnettest-{}-{}", ::getpid(), suffix);
}

class TwoNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates network namespaces)";
    auto a = runtime::PinnedNetns::Create(TestNetnsPath("a"));
    ASSERT_TRUE(a.has_value()) << a.error().message();
    a_ = *std::move(a);
    auto b = runtime::PinnedNetns::Create(TestNetnsPath("b"));
    ASSERT_TRUE(b.has_value()) << b.error().message();
    b_ = *std::move(b);
    auto sa = netlink::Socket::OpenInNetns(NETLINK_ROUTE, a_.fd());
    ASSERT_TRUE(sa.has_value()) << sa.error().message();
    sock_a_.emplace(*std::move(sa));
    auto sb = netlink::Socket::OpenInNetns(NETLINK_ROUTE, b_.fd());
    ASSERT_TRUE(sb.has_value()) << sb.error().message();
    sock_b_.emplace(*std::move(sb));
    auto sr = netlink::Socket::Open(NETLINK_ROUTE);
    ASSERT_TRUE(sr.has_value()) << sr.error().message();
    sock_root_.emplace(*std::move(sr));
  }

  netlink::Socket& A() { return *sock_a_; }
  netlink::Socket& B() { return *sock_b_; }
  netlink::Socket& Root() { return *sock_root_; }

  // The sockets close before the namespaces are unpinned (members are
  // destroyed in reverse order).
  runtime::PinnedNetns a_;
  runtime::PinnedNetns b_;
  std::optional<netlink::Socket> sock_a_;
  std::optional<netlink::Socket> sock_b_;
  std::optional<netlink::Socket> sock_root_;
};

// A UDP socket created inside netns_fd (a socket belongs to the namespace it
// was created in, whichever thread uses it later), bound to addr:port, with
// a receive timeout.
inline Result<UniqueFd> UdpSocketIn(int netns_fd, const std::string& addr, uint16_t port) {
  Result<UniqueFd> out = Fail(Errc::kInternal, "unset");
  QNET_TRY(netlink::RunInNetns(netns_fd, [&]() -> Status {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return Fail(ErrnoError("socket", errno));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    ::inet_pton(AF_INET, addr.c_str(), &sin.sin_addr);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0)
      return Fail(ErrnoError(fmt::format("bind {}:{}", addr, port), errno));
    timeval tv{.tv_sec = 0, .tv_usec = 500'000};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    out = std::move(fd);
    return OkStatus();
  }));
  return out;
}

inline uint16_t BoundPort(int fd) {
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  return ntohs(sin.sin_port);
}

inline Status SendUdp(int fd, const std::string& addr, uint16_t port, std::string_view payload) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  ::inet_pton(AF_INET, addr.c_str(), &sin.sin_addr);
  if (::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&sin),
               sizeof sin) < 0)
    return Fail(ErrnoError(fmt::format("sendto {}:{}", addr, port), errno));
  return OkStatus();
}

// Polls cond every 50 ms until it holds or timeout passes.
template <typename Cond>
bool WaitFor(Cond cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace qnet::testing
