// qnet-blast: a bounded load generator for lab tests. Sends UDP datagrams
// and/or TCP SYNs (non-blocking connect attempts, each from a fresh source
// port) to one lab address, for at most --seconds and --max-packets, then
// prints "sent N".
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <thread>

#include "qnet/base/fd.h"
#include "qnet/base/ip.h"
#include "qnet/testtools/destination_check.h"

namespace qnet::testtools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kMaxSeconds = 30;
constexpr uint64_t kMaxPackets = 10'000'000;
constexpr size_t kMaxPayload = 1472;

struct BlastOptions {
  std::string dst;
  std::string src;
  uint16_t port = 0;
  bool udp = false;
  bool tcp_syn = false;
  double seconds = 1;
  uint64_t max_packets = 100'000;
  double rate = 0;  // packets per second; 0 = as fast as possible
  size_t size = 32;
};

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

SockAddr ToSockAddr(const IpAddr& addr, uint16_t port) {
  SockAddr out;
  if (addr.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, addr.data(), 4);
    out.len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, addr.data(), 16);
    out.len = sizeof(sockaddr_in6);
  }
  return out;
}

struct Target {
  IpAddr dst;
  std::optional<IpAddr> src;
  SockAddr dst_sa;
};

Result<UniqueFd> OpenSocket(const Target& t, int type) {
  int family = t.dst.is_v4() ? AF_INET : AF_INET6;
  UniqueFd fd(::socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return Fail(ErrnoError("socket", errno));
  if (t.src) {
    SockAddr src = ToSockAddr(*t.src, 0);
    if (::bind(fd.get(), src.get(), src.len) != 0)
      return Fail(ErrnoError(fmt::format("bind {}", *t.src), errno));
  }
  return fd;
}

// One SYN: the kernel sends it during connect(); closing with linger 0
// before an answer leaves no half-open socket behind and picks a new
// ephemeral source port for the next attempt.
Status SendSyn(const Target& t) {
  QNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenSocket(t, SOCK_STREAM));
  linger lg{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  if (::connect(fd.get(), t.dst_sa.get(), t.dst_sa.len) != 0 && errno != EINPROGRESS)
    return Fail(ErrnoError("connect", errno));
  return OkStatus();
}

Status SendDatagram(int fd, const Target& t, const std::string& payload) {
  ssize_t n = ::sendto(fd, payload.data(), payload.size(), 0, t.dst_sa.get(), t.dst_sa.len);
  if (n < 0) return Fail(ErrnoError("sendto", errno));
  return OkStatus();
}

Status Validate(const BlastOptions& o) {
  if (!o.udp && !o.tcp_syn) return Fail(Errc::kInvalidArgument, "give --udp and/or --tcp-syn");
  if (!(o.seconds > 0 && o.seconds <= kMaxSeconds))
    return Fail(Errc::kInvalidArgument, fmt::format("--seconds must be in (0, {}]", kMaxSeconds));
  if (o.max_packets == 0 || o.max_packets > kMaxPackets)
    return Fail(Errc::kInvalidArgument,
                fmt::format("--max-packets must be in [1, {}]", kMaxPackets));
  if (o.rate < 0) return Fail(Errc::kInvalidArgument, "--rate must not be negative");
  if (o.size > kMaxPayload)
    return Fail(Errc::kInvalidArgument, fmt::format("--size must be at most {}", kMaxPayload));
  if (o.port == 0) return Fail(Errc::kInvalidArgument, "--port must not be 0");
  return OkStatus();
}

Result<Target> MakeTarget(const BlastOptions& o) {
  Target t;
  QNET_ASSIGN_OR_RETURN(t.dst, IpAddr::Parse(o.dst));
  QNET_TRY(CheckBlastDestination(t.dst));
  if (!o.src.empty()) {
    QNET_ASSIGN_OR_RETURN(IpAddr src, IpAddr::Parse(o.src));
    if (src.family() != t.dst.family())
      return Fail(Errc::kInvalidArgument, "--src and --dst must be the same family");
    t.src = src;
  }
  t.dst_sa = ToSockAddr(t.dst, o.port);
  return t;
}

struct Counts {
  uint64_t sent = 0;
  uint64_t errors = 0;
  std::string last_error;
};

// Bounded twice over: by max_packets and by the deadline.
Result<Counts> Blast(const BlastOptions& o, const Target& t) {
  UniqueFd udp_fd;
  if (o.udp) {
    QNET_ASSIGN_OR_RETURN(udp_fd, OpenSocket(t, SOCK_DGRAM));
  }
  std::string payload(o.size, 'q');
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  Counts c;
  for (uint64_t i = 0; i < o.max_packets; ++i) {
    if (o.rate > 0) {
      auto due = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(i) / o.rate));
      if (due >= deadline) break;
      std::this_thread::sleep_until(due);
    }
    if (Clock::now() >= deadline) break;
    bool use_udp = o.udp && (!o.tcp_syn || i % 2 == 0);
    Status s = use_udp ? SendDatagram(udp_fd.get(), t, payload) : SendSyn(t);
    if (s) {
      ++c.sent;
    } else {
      ++c.errors;
      c.last_error = s.error().message();
    }
  }
  return c;
}

int Main(int argc, char** argv) {
  BlastOptions o;
  CLI::App app{"qnet-blast: bounded UDP / TCP SYN load toward a lab address"};
  app.add_option("--dst", o.dst, "destination address (lab ranges or loopback only)")->required();
  app.add_option("--port", o.port, "destination port")->required();
  app.add_option("--src", o.src, "source address to bind");
  app.add_flag("--udp", o.udp, "send UDP datagrams");
  app.add_flag("--tcp-syn", o.tcp_syn, "send TCP SYNs (connect attempts)");
  app.add_option("--seconds", o.seconds, "time limit, at most 30")->capture_default_str();
  app.add_option("--max-packets", o.max_packets, "packet limit, at most 10000000")
      ->capture_default_str();
  app.add_option("--rate", o.rate, "packets per second, 0 = unpaced")->capture_default_str();
  app.add_option("--size", o.size, "UDP payload bytes")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (Status s = Validate(o); !s) {
    std::fprintf(stderr, "qnet-blast: %s\n", s.error().message().c_str());
    return 2;
  }
  auto target = MakeTarget(o);
  if (!target) {
    std::fprintf(stderr, "qnet-blast: %s\n", target.error().message().c_str());
    return 2;
  }
  auto counts = Blast(o, *target);
  if (!counts) {
    std::fprintf(stderr, "qnet-blast: %s\n", counts.error().message().c_str());
    return 1;
  }
  if (counts->errors > 0)
    std::fprintf(stderr, "qnet-blast: %llu send errors, last: %s\n",
                 static_cast<unsigned long long>(counts->errors), counts->last_error.c_str());
  std::printf("sent %llu\n", static_cast<unsigned long long>(counts->sent));
  return 0;
}

}  // namespace
}  // namespace qnet::testtools

int main(int argc, char** argv) {
  try {
    return qnet::testtools::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qnet-blast: fatal: %s\n", e.what());
    return 1;
  }
}
