// qrexec data channels against a plain Unix socket pair, ratios in one run:
//   call   an empty call: connect a Qubes-named vchan socket, HELLO both
//          ways, stdin EOF, stdout/stderr EOF and the exit code; the
//          baseline moves the same bytes over a fresh socketpair
//   stream N MiB from a service to its requester through the data channel;
//          the baseline writes the same bytes into a socketpair
//   policy loading and evaluating the policy of tests/unit/qrexec/policy_data
// Usage: qrexec_bench [CALLS [MIB]]   (default 2000 calls, 1024 MiB)
#include <fmt/format.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "qnet/qrexec/frame.h"
#include "qnet/qrexec/policy.h"
#include "qnet/qrexec/session.h"
#include "qnet/qrexec/transport.h"

namespace {

using namespace qnet;
using namespace qnet::qrexec;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::pair<UniqueFd, UniqueFd> SocketPair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool ReadExactly(int fd, size_t n) {
  std::vector<char> buf(std::min<size_t>(n, 1 << 16));
  while (n > 0) {
    ssize_t got = ::read(fd, buf.data(), std::min(n, buf.size()));
    if (got <= 0) return false;
    n -= static_cast<size_t>(got);
  }
  return true;
}

uint64_t Drain(int fd) {
  std::vector<char> buf(1 << 16);
  uint64_t total = 0;
  ssize_t n;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) total += static_cast<uint64_t>(n);
  return total;
}

// Empty calls through the vchan socket transport, one data port each.
std::vector<double> QrexecCalls(const std::string& dir, int calls) {
  UnixSocketTransport transport(dir);
  std::thread server([&] {
    for (int i = 0; i < calls; ++i) {
      auto ch = transport.Accept({0, 5, kFirstDataPort + static_cast<uint32_t>(i % 4096)}, 10s);
      if (!ch) std::abort();
      if (!RunService(
              std::move(*ch), UniqueFd(), UniqueFd(), UniqueFd(), [] { return 0; }, 10s)) {
        std::abort();
      }
    }
  });
  std::vector<double> rtt;
  for (int i = 0; i < calls; ++i) {
    auto start = Clock::now();
    auto ch = transport.Connect({0, 5, kFirstDataPort + static_cast<uint32_t>(i % 4096)}, 10s);
    if (!ch) std::abort();
    auto code = RunRequester(std::move(*ch), UniqueFd(), UniqueFd(), UniqueFd(), 10s);
    if (!code || *code != 0) std::abort();
    rtt.push_back(Micros(Clock::now() - start));
  }
  server.join();
  return rtt;
}

// The same bytes each way over a fresh socketpair per call.
std::vector<double> PlainCalls(int calls) {
  std::string request =
      *EncodeFrame(MsgType::kHello, EncodeHello({4})) + *EncodeFrame(MsgType::kDataStdin, "");
  std::string reply = *EncodeFrame(MsgType::kHello, EncodeHello({4})) +
                      *EncodeFrame(MsgType::kDataStdout, "") +
                      *EncodeFrame(MsgType::kDataStderr, "") +
                      *EncodeFrame(MsgType::kDataExitCode, EncodeExitCode(0));
  std::vector<double> rtt;
  for (int i = 0; i < calls; ++i) {
    auto start = Clock::now();
    auto [a, b] = SocketPair();
    std::thread peer([&, fd = std::move(b)] {
      if (!ReadExactly(fd.get(), request.size()) || !SendAll(fd.get(), reply)) std::abort();
    });
    if (!SendAll(a.get(), request) || !ReadExactly(a.get(), reply.size())) std::abort();
    peer.join();
    rtt.push_back(Micros(Clock::now() - start));
  }
  return rtt;
}

// Writes `bytes` into fd and closes it.
void Generate(UniqueFd fd, uint64_t bytes) {
  std::string block(1 << 20, 'q');
  for (uint64_t sent = 0; sent < bytes; sent += block.size()) {
    if (!SendAll(fd.get(), std::string_view(block).substr(
                               0, std::min<uint64_t>(block.size(), bytes - sent)))) {
      return;
    }
  }
}

double QrexecStream(uint64_t bytes) {
  auto [requester_end, service_end] = SocketPair();
  auto [stdout_source, generator] = SocketPair();
  auto [out_reader, out] = SocketPair();
  auto start = Clock::now();
  std::thread gen(Generate, std::move(generator), bytes);
  std::thread service([&, ch = std::move(service_end), src = std::move(stdout_source)]() mutable {
    if (!RunService(std::move(ch), UniqueFd(), std::move(src), UniqueFd(), [] { return 0; })) {
      std::abort();
    }
  });
  uint64_t got = 0;
  std::thread reader([&, fd = std::move(out_reader)] { got = Drain(fd.get()); });
  auto code = RunRequester(std::move(requester_end), UniqueFd(), std::move(out), UniqueFd());
  gen.join();
  service.join();
  reader.join();
  if (!code || got != bytes) std::abort();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double PlainStream(uint64_t bytes) {
  auto [reader_end, writer_end] = SocketPair();
  auto start = Clock::now();
  std::thread gen(Generate, std::move(writer_end), bytes);
  uint64_t got = Drain(reader_end.get());
  gen.join();
  if (got != bytes) std::abort();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int calls = argc > 1 ? std::atoi(argv[1]) : 2000;
  uint64_t mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024;
  char tmpl[] = "/tmp/qnet-qrexec-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  std::string dir = tmpl;

  double qrexec_call = Median(QrexecCalls(dir, calls));
  double plain_call = Median(PlainCalls(calls));
  fmt::print(
      "empty call, median of {}: qrexec {:.1f} us, plain socketpair {:.1f} us, ratio {:.2f}\n",
      calls, qrexec_call, plain_call, qrexec_call / plain_call);

  uint64_t bytes = mib << 20;
  double qrexec_s = QrexecStream(bytes);
  double plain_s = PlainStream(bytes);
  double qrexec_mbs = static_cast<double>(bytes) / 1e6 / qrexec_s;
  double plain_mbs = static_cast<double>(bytes) / 1e6 / plain_s;
  fmt::print("stream {} MiB: qrexec {:.0f} MB/s, plain socketpair {:.0f} MB/s, ratio {:.2f}\n", mib,
             qrexec_mbs, plain_mbs, qrexec_mbs / plain_mbs);

  std::string policy_dir = std::string(QNET_POLICY_DATA_DIR) + "/policy.d";
  FilesystemPolicySource fs;
  QubeDirectory qubes({{"work", "AppVM", {}, "", ""}, {"personal", "AppVM", {}, "", ""}});
  std::vector<double> load_eval;
  for (int i = 0; i < 200; ++i) {
    auto start = Clock::now();
    auto policy = LoadPolicy(fs, policy_dir);
    PolicyDecision d = Decide(policy, {"qubes.Filecopy", "", "work", "personal"}, qubes);
    load_eval.push_back(Micros(Clock::now() - start));
    if (d.action != PolicyAction::kAsk) return 1;
  }
  auto policy = LoadPolicy(fs, policy_dir);
  std::vector<double> eval;
  for (int i = 0; i < 2000; ++i) {
    auto start = Clock::now();
    PolicyDecision d = policy->Evaluate({"qubes.Nothing", "", "work", "personal"}, qubes);
    eval.push_back(Micros(Clock::now() - start));
    if (d.action != PolicyAction::kDeny) return 1;
  }
  fmt::print(
      "policy ({} rules): load+evaluate {:.1f} us, evaluate (no match, all rules) {:.2f} us\n",
      policy->rules().size(), Median(load_eval), Median(eval));
  std::filesystem::remove_all(dir);
  return 0;
}
