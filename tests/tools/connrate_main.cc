// qnet-connrate: new connections per second to one lab address, for the
// firewall path benchmark. Every attempt is a new flow, so every one meets
// the firewall's rules (no established fast path):
//   --tcp   connect (a new source port each time), optionally --echo: send
//           one line and wait for it to come back (the lab's TCP echo on
//           port 7), then close with RST (SO_LINGER 0) so the client keeps
//           no TIME_WAIT and its ephemeral ports never run out;
//   --udp   a new socket (a new source port, a new conntrack flow), send one
//           datagram, wait for the echo reply (the lab's UDP echo, port 7).
// N workers (threads) run attempts back to back, bounded by --seconds (at
// most 30) and --max-count (over all workers); each attempt waits at most
// --timeout-ms. Prints one line:
//   connrate proto=tcp workers=4 ok=12345 failed=0 seconds=3.001 rate=4113.6
// (rate = completed flows per second) and, when any failed, the last error
// on stderr. Only lab and loopback destinations (CheckBlastDestination).
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "qnet/base/fd.h"
#include "qnet/base/ip.h"
#include "qnet/base/result.h"
#include "qnet/testtools/destination_check.h"

namespace qnet::testtools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kMaxSeconds = 30;
constexpr uint64_t kMaxCount = 10'000'000;
constexpr int kMaxWorkers = 64;
constexpr int kMaxTimeoutMs = 5000;
constexpr char kPayload[] = "qnet-connrate\n";

struct Options {
  std::string dst;
  uint16_t port = 7;
  bool tcp = false;
  bool udp = false;
  bool echo = false;
  int workers = 4;
  double seconds = 3;
  uint64_t max_count = 1'000'000;
  int timeout_ms = 1000;
};

struct Target {
  sockaddr_storage sa{};
  socklen_t len = 0;
  int family = AF_INET;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&sa); }
};

Status Validate(const Options& o) {
  if (o.tcp == o.udp) return Fail(Errc::kInvalidArgument, "give exactly one of --tcp, --udp");
  if (o.echo && !o.tcp) return Fail(Errc::kInvalidArgument, "--echo goes with --tcp");
  if (!(o.seconds > 0 && o.seconds <= kMaxSeconds))
    return Fail(Errc::kInvalidArgument, fmt::format("--seconds must be in (0, {}]", kMaxSeconds));
  if (o.max_count == 0 || o.max_count > kMaxCount)
    return Fail(Errc::kInvalidArgument, fmt::format("--max-count must be in [1, {}]", kMaxCount));
  if (o.workers < 1 || o.workers > kMaxWorkers)
    return Fail(Errc::kInvalidArgument, fmt::format("--workers must be in [1, {}]", kMaxWorkers));
  if (o.timeout_ms < 1 || o.timeout_ms > kMaxTimeoutMs)
    return Fail(Errc::kInvalidArgument,
                fmt::format("--timeout-ms must be in [1, {}]", kMaxTimeoutMs));
  if (o.port == 0) return Fail(Errc::kInvalidArgument, "--port must not be 0");
  return OkStatus();
}

// The destination, checked, as a sockaddr (numeric, no name resolution).
Result<Target> MakeTarget(const Options& o) {
  QNET_ASSIGN_OR_RETURN(IpAddr dst, IpAddr::Parse(o.dst));
  QNET_TRY(CheckBlastDestination(dst));
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_family = dst.is_v4() ? AF_INET : AF_INET6;
  addrinfo* res = nullptr;
  const std::string text = dst.ToString(), port = std::to_string(o.port);
  if (int rc = ::getaddrinfo(text.c_str(), port.c_str(), &hints, &res); rc != 0 || !res)
    return Fail(Errc::kInvalidArgument, fmt::format("{}: {}", text, ::gai_strerror(rc)));
  Target t;
  std::memcpy(&t.sa, res->ai_addr, res->ai_addrlen);
  t.len = res->ai_addrlen;
  t.family = res->ai_family;
  ::freeaddrinfo(res);
  return t;
}

// Waits until fd is ready for `events` or the deadline passes.
Status WaitFd(int fd, short events, Clock::time_point deadline, const char* what) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Fail(Errc::kTimeout, fmt::format("{}: timed out", what));
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrnoError("poll", errno));
    if (n > 0) return OkStatus();
  }
}

Status ExpectReply(int fd, Clock::time_point deadline, const char* what) {
  QNET_TRY(WaitFd(fd, POLLIN, deadline, what));
  char buf[64];
  ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  if (n < 0) return Fail(ErrnoError(what, errno));
  if (n == 0) return Fail(Errc::kProtocol, fmt::format("{}: closed without a reply", what));
  return OkStatus();
}

Result<UniqueFd> NewSocket(const Target& t, int type) {
  UniqueFd fd(::socket(t.family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return Fail(ErrnoError("socket", errno));
  return fd;
}

Status TcpAttempt(const Target& t, bool echo, Clock::time_point deadline) {
  QNET_ASSIGN_OR_RETURN(UniqueFd fd, NewSocket(t, SOCK_STREAM));
  linger lg{1, 0};  // close = RST: no TIME_WAIT on the client
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  if (::connect(fd.get(), t.get(), t.len) != 0) {
    if (errno != EINPROGRESS) return Fail(ErrnoError("connect", errno));
    QNET_TRY(WaitFd(fd.get(), POLLOUT, deadline, "connect"));
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Fail(ErrnoError("connect", err));
  }
  if (!echo) return OkStatus();
  if (::send(fd.get(), kPayload, sizeof(kPayload) - 1, MSG_NOSIGNAL) < 0)
    return Fail(ErrnoError("send", errno));
  return ExpectReply(fd.get(), deadline, "tcp echo");
}

Status UdpAttempt(const Target& t, Clock::time_point deadline) {
  QNET_ASSIGN_OR_RETURN(UniqueFd fd, NewSocket(t, SOCK_DGRAM));
  if (::connect(fd.get(), t.get(), t.len) != 0) return Fail(ErrnoError("connect", errno));
  if (::send(fd.get(), kPayload, sizeof(kPayload) - 1, 0) < 0)
    return Fail(ErrnoError("send", errno));
  return ExpectReply(fd.get(), deadline, "udp echo");
}

struct Totals {
  std::atomic<uint64_t> started{0};
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> failed{0};
  std::mutex mu;
  std::string last_error;
};

void Worker(const Options& o, const Target& t, Clock::time_point end, Totals& totals) {
  const auto timeout = std::chrono::milliseconds(o.timeout_ms);
  while (Clock::now() < end && totals.started.fetch_add(1) < o.max_count) {
    const auto deadline = std::min(Clock::now() + timeout, end + timeout);
    Status s = o.tcp ? TcpAttempt(t, o.echo, deadline) : UdpAttempt(t, deadline);
    if (s) {
      totals.ok.fetch_add(1);
    } else {
      totals.failed.fetch_add(1);
      std::lock_guard<std::mutex> lock(totals.mu);
      totals.last_error = s.error().message();
    }
  }
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"qnet-connrate: new TCP connections / UDP flows per second to a lab address"};
  app.add_option("--dst", o.dst, "destination address (lab ranges or loopback only)")->required();
  app.add_option("--port", o.port, "destination port")->capture_default_str();
  app.add_flag("--tcp", o.tcp, "TCP: connect, then close (with --echo: one line echoed first)");
  app.add_flag("--udp", o.udp, "UDP: a new socket per attempt, one datagram, wait for the echo");
  app.add_flag("--echo", o.echo, "TCP: send one line and wait for the reply before closing");
  app.add_option("--workers", o.workers, "concurrent workers, at most 64")->capture_default_str();
  app.add_option("--seconds", o.seconds, "time limit, at most 30")->capture_default_str();
  app.add_option("--max-count", o.max_count, "attempt limit over all workers")
      ->capture_default_str();
  app.add_option("--timeout-ms", o.timeout_ms, "per-attempt limit, at most 5000")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (Status s = Validate(o); !s) {
    std::fprintf(stderr, "qnet-connrate: %s\n", s.error().message().c_str());
    return 2;
  }
  auto target = MakeTarget(o);
  if (!target) {
    std::fprintf(stderr, "qnet-connrate: %s\n", target.error().message().c_str());
    return 2;
  }
  Totals totals;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> workers;
  for (int i = 0; i < o.workers; ++i)
    workers.emplace_back(Worker, std::cref(o), std::cref(*target), end, std::ref(totals));
  for (std::thread& w : workers) w.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const uint64_t ok = totals.ok.load(), failed = totals.failed.load();
  if (failed > 0)
    std::fprintf(stderr, "qnet-connrate: %llu failed, last: %s\n",
                 static_cast<unsigned long long>(failed), totals.last_error.c_str());
  std::printf("connrate proto=%s workers=%d ok=%llu failed=%llu seconds=%.3f rate=%.1f\n",
              o.tcp ? (o.echo ? "tcp-echo" : "tcp") : "udp", o.workers,
              static_cast<unsigned long long>(ok), static_cast<unsigned long long>(failed), secs,
              secs > 0 ? static_cast<double>(ok) / secs : 0.0);
  return 0;
}

}  // namespace
}  // namespace qnet::testtools

int main(int argc, char** argv) {
  try {
    return qnet::testtools::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qnet-connrate: fatal: %s\n", e.what());
    return 1;
  }
}
