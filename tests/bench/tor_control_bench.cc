// Control-port client throughput against Stem, in one run (never a
// pass/fail): control-reply parsing of a recorded event stream (events per
// second, CIRC/STREAM/STATUS_CLIENT, parsed to typed events) and GETINFO
// round trips per second against a real tor (DisableNetwork 1, ControlSocket
// in a temp dir). The same tor and the same event file go to
// tor_control_stem.py; the ratios are printed last.
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "qnet/base/process.h"
#include "qnet/tor/control_client.h"
#include "tor_fixture.h"

namespace {

using namespace qnet;
using namespace qnet::tor;
using Clock = std::chrono::steady_clock;

std::string EventStream(int events) {
  std::string out;
  for (int i = 0; i < events; ++i) {
    switch (i % 3) {
      case 0:
        out += fmt::format(
            "650 CIRC {} BUILT $0123456789ABCDEF0123456789ABCDEF01234567~guard,"
            "$89ABCDEF0123456789ABCDEF0123456789ABCDEF~middle,"
            "$FEDCBA9876543210FEDCBA9876543210FEDCBA98~exit BUILD_FLAGS=NEED_CAPACITY "
            "PURPOSE=GENERAL TIME_CREATED=2026-12-03T16:00:00.000000 SOCKS_USERNAME=\"ws-{}\"\r\n",
            i, i % 7);
        break;
      case 1:
        out += fmt::format(
            "650 STREAM {} SUCCEEDED {} 203.0.113.10:80 SOURCE_ADDR=10.137.0.12:{} "
            "PURPOSE=USER\r\n",
            i, i / 3, 40000 + i % 20000);
        break;
      default:
        out += "650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"\r\n";
    }
  }
  return out;
}

double ParserEventsPerSecond(const std::string& stream, int events) {
  auto start = Clock::now();
  ReplyParser parser;
  int parsed = 0;
  for (size_t at = 0; at < stream.size(); at += 8192) {
    if (!parser.Feed(std::string_view(stream).substr(at, 8192)).ok()) return 0;
    while (auto r = parser.Next()) parsed += ParseEvent(*r).has_value();
  }
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  return parsed == events ? events / s : 0;
}

// depth 1: one command at a time (what Stem does); depth n: all pipelined.
double RoundTripsPerSecond(const std::string& control, int n, int depth) {
  boost::asio::io_context io;
  ClientOptions o;
  o.reconnect = false;
  ControlClient client(io.get_executor(), UnixEndpoint{control}, o);
  client.Start();
  while (client.state() != ClientState::kReady && client.state() != ClientState::kDisconnected)
    io.run_one_for(std::chrono::seconds(5));
  if (client.state() != ClientState::kReady) return 0;
  std::vector<std::string> keys = {"status/bootstrap-phase"};
  int done = 0;
  bool failed = false;
  int sent = 0;
  std::function<void()> next = [&] {
    ++sent;
    client.Send(*GetInfo(keys), [&](Result<Reply> r) {
      auto info = r ? ParseGetInfo(*r) : Result<std::map<std::string, std::string>>(r.error());
      if (!info || !ParseBootstrapPhase(info->at("status/bootstrap-phase"))) failed = true;
      ++done;
      if (sent < n && !failed) next();
    });
  };
  auto start = Clock::now();
  for (int i = 0; i < depth && sent < n; ++i) next();
  while (done < n && !failed) io.run_one_for(std::chrono::seconds(5));
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  return failed ? 0 : n / s;
}

std::map<std::string, double> ParseLines(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string key;
  double value;
  while (in >> key >> value) out[key] = value;
  return out;
}

}  // namespace

int main() {
  constexpr int kEvents = 300000;
  constexpr int kRoundTrips = 3000;
  if (!testing::TorInstalled()) {
    std::puts("tor not installed: apt-get install tor");
    return 1;
  }
  testing::TestTor tor({"CookieAuthentication 1"});
  if (!tor.ok()) {
    std::printf("tor did not start: %s\n", tor.error().c_str());
    return 1;
  }
  const std::string stream = EventStream(kEvents);
  const std::string events_file = tor.dir() + "/events";
  std::ofstream(events_file, std::ios::binary) << stream;

  double qnet_parser = ParserEventsPerSecond(stream, kEvents);
  double qnet_rtt = RoundTripsPerSecond(tor.control_path(), kRoundTrips, 1);
  double qnet_pipelined = RoundTripsPerSecond(tor.control_path(), kRoundTrips, kRoundTrips);
  std::printf("qnet parser_events_per_s %.0f\nqnet getinfo_round_trips_per_s %.0f\n", qnet_parser,
              qnet_rtt);
  std::printf("qnet getinfo_pipelined_per_s %.0f\n", qnet_pipelined);
  auto stem = RunCapture({"/usr/bin/python3", QNET_BENCH_DIR "/tor_control_stem.py", events_file,
                          tor.control_path(), std::to_string(kRoundTrips / 3)});
  if (!stem) {
    std::printf("stem run failed (apt-get install python3-stem): %s\n",
                stem.error().message().c_str());
    return 1;
  }
  auto s = ParseLines(*stem);
  std::printf("stem parser_events_per_s %.0f\nstem getinfo_round_trips_per_s %.0f\n",
              s["parser_events_per_s"], s["getinfo_round_trips_per_s"]);
  std::printf("ratio parser qnet/stem %.1fx\nratio getinfo qnet/stem %.1fx\n",
              qnet_parser / s["parser_events_per_s"], qnet_rtt / s["getinfo_round_trips_per_s"]);
  std::printf("ratio getinfo pipelined qnet/stem %.1fx\n",
              qnet_pipelined / s["getinfo_round_trips_per_s"]);
  return 0;
}
