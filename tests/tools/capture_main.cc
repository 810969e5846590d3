// qnet-capture: counts the packets on one interface that match a BPF filter,
// for at most --seconds or until SIGTERM/SIGINT, and prints "captured N".
// Prints "listening" once the filter is installed, so a test can start its
// traffic only then. Optionally writes the packets to a pcap file.
#include <fmt/format.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"

namespace qnet::testtools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kMaxSeconds = 120;
constexpr int kPollSliceMs = 100;
// libpcap uses fixed-size TPACKET_V2 frames in immediate mode, one frame per
// snaplen: the default 262144 would leave a 2 MB ring with 8 slots and drop
// bursts. Headers plus an MTU of payload is plenty for counting.
constexpr int kDefaultSnapLen = 2048;
constexpr int kMaxSnapLen = 65535;
constexpr int kBufferBytes = 32 << 20;

struct CaptureOptions {
  std::string iface;
  std::string filter;
  double seconds = 10;
  std::string write;
  int snaplen = kDefaultSnapLen;
};

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
struct DumperCloser {
  void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;
using PcapDumper = std::unique_ptr<pcap_dumper_t, DumperCloser>;

struct Sink {
  uint64_t count = 0;
  pcap_dumper_t* dumper = nullptr;
};

void OnPacket(u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
  auto* sink = reinterpret_cast<Sink*>(user);
  ++sink->count;
  if (sink->dumper != nullptr) pcap_dump(reinterpret_cast<u_char*>(sink->dumper), header, bytes);
}

Error PcapError(std::string_view what, pcap_t* p) {
  return Error(Errc::kIo, fmt::format("{}: {}", what, pcap_geterr(p)));
}

Result<PcapHandle> OpenCapture(const CaptureOptions& o) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapHandle p(pcap_create(o.iface.c_str(), errbuf));
  if (!p) return Fail(Errc::kIo, fmt::format("pcap_create {}: {}", o.iface, errbuf));
  pcap_set_snaplen(p.get(), o.snaplen);
  pcap_set_buffer_size(p.get(), kBufferBytes);
  pcap_set_promisc(p.get(), 0);
  // Without immediate mode packets sit in the kernel buffer and a short run
  // would count none of them.
  pcap_set_immediate_mode(p.get(), 1);
  int rc = pcap_activate(p.get());
  if (rc < 0) return PcapError(fmt::format("activate {}", o.iface), p.get());
  bpf_program prog{};
  if (pcap_compile(p.get(), &prog, o.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    return PcapError(fmt::format("filter '{}'", o.filter), p.get());
  rc = pcap_setfilter(p.get(), &prog);
  pcap_freecode(&prog);
  if (rc != 0) return PcapError("setfilter", p.get());
  if (pcap_setnonblock(p.get(), 1, errbuf) != 0)
    return Fail(Errc::kIo, fmt::format("setnonblock: {}", errbuf));
  return p;
}

// SIGTERM/SIGINT as a readable fd, so the capture loop polls one set of fds
// and needs no signal handler or global flag.
Result<UniqueFd> StopSignalFd() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return Fail(ErrnoError("sigprocmask", errno));
  int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return Fail(ErrnoError("signalfd", errno));
  return UniqueFd(fd);
}

// Bounded by the deadline: each poll waits at most kPollSliceMs.
Status CaptureLoop(pcap_t* p, int stop_fd, Clock::time_point deadline, Sink* sink) {
  int pcap_fd = pcap_get_selectable_fd(p);
  if (pcap_fd < 0) return Fail(Errc::kIo, "interface has no selectable fd");
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd fds[2] = {{pcap_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), kPollSliceMs)));
    if (n < 0 && errno != EINTR) return Fail(ErrnoError("poll", errno));
    if (pcap_dispatch(p, -1, OnPacket, reinterpret_cast<u_char*>(sink)) < 0)
      return PcapError("dispatch", p);
    if (n > 0 && (fds[1].revents & POLLIN)) break;
  }
  return OkStatus();
}

Status Capture(const CaptureOptions& o) {
  QNET_ASSIGN_OR_RETURN(UniqueFd stop_fd, StopSignalFd());
  QNET_ASSIGN_OR_RETURN(PcapHandle p, OpenCapture(o));
  PcapDumper dumper;
  Sink sink;
  if (!o.write.empty()) {
    dumper.reset(pcap_dump_open(p.get(), o.write.c_str()));
    if (!dumper) return PcapError(fmt::format("open {}", o.write), p.get());
    sink.dumper = dumper.get();
  }
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(o.seconds));
  std::printf("listening\n");
  std::fflush(stdout);
  Status s = CaptureLoop(p.get(), stop_fd.get(), deadline, &sink);
  if (dumper && pcap_dump_flush(dumper.get()) != 0)
    return Fail(Errc::kIo, fmt::format("write {}", o.write));
  if (!s) return s;
  // A count that is short because the kernel dropped packets must say so.
  pcap_stat stats{};
  if (pcap_stats(p.get(), &stats) == 0 && (stats.ps_drop > 0 || stats.ps_ifdrop > 0))
    std::fprintf(stderr, "qnet-capture: dropped %u (buffer) %u (interface)\n", stats.ps_drop,
                 stats.ps_ifdrop);
  std::printf("captured %llu\n", static_cast<unsigned long long>(sink.count));
  std::fflush(stdout);
  return OkStatus();
}

int Main(int argc, char** argv) {
  CaptureOptions o;
  CLI::App app{"qnet-capture: count packets matching a BPF filter on one interface"};
  app.add_option("--iface", o.iface, "interface to capture on")->required();
  app.add_option("--filter", o.filter, "BPF filter expression (default: every packet)");
  app.add_option("--seconds", o.seconds, "time limit, at most 120")->capture_default_str();
  app.add_option("--write", o.write, "also write the packets to this pcap file");
  app.add_option("--snaplen", o.snaplen, "bytes kept per packet")
      ->check(CLI::Range(64, kMaxSnapLen))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!(o.seconds > 0 && o.seconds <= kMaxSeconds)) {
    std::fprintf(stderr, "qnet-capture: --seconds must be in (0, %g]\n", kMaxSeconds);
    return 2;
  }
  if (Status s = Capture(o); !s) {
    std::fprintf(stderr, "qnet-capture: %s\n", s.error().message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace qnet::testtools

int main(int argc, char** argv) {
  try {
    return qnet::testtools::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qnet-capture: fatal: %s\n", e.what());
    return 1;
  }
}
