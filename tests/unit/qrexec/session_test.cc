// Data channels (session.h) over Qubes-named Unix sockets (transport.h), in
// one process: streaming both ways at once, back-pressure, many calls.
#include "qnet/qrexec/session.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "qnet/qrexec/frame.h"
#include "qnet/qrexec/transport.h"

namespace qnet::qrexec {
namespace {

using namespace std::chrono_literals;

std::pair<UniqueFd, UniqueFd> SocketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// WriteAll for sockets without SIGPIPE: a failing test must fail, not die.
bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// FNV-1a over a byte stream, fed in any pieces.
struct Hash {
  uint64_t value = 1469598103934665603ull;
  uint64_t bytes = 0;
  void Add(const char* data, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      value = (value ^ static_cast<unsigned char>(data[i])) * 1099511628211ull;
    }
    bytes += n;
  }
};

// Writes `total` bytes of a non-periodic pattern to fd, then closes it.
Hash WritePattern(UniqueFd fd, uint64_t total) {
  std::string block(1 << 20, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& c : block) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  Hash hash;
  for (uint64_t sent = 0, round = 0; sent < total; ++round) {
    size_t start = (round * 4099) % block.size();
    size_t n = static_cast<size_t>(std::min<uint64_t>(block.size() - start, total - sent));
    if (!SendAll(fd.get(), std::string_view(block).substr(start, n))) break;
    hash.Add(block.data() + start, n);
    sent += n;
  }
  return hash;
}

Hash ReadHash(UniqueFd fd) {
  Hash hash;
  std::vector<char> buf(1 << 16);
  while (true) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n <= 0) break;
    hash.Add(buf.data(), static_cast<size_t>(n));
  }
  return hash;
}

// Copies fd `in` to `out` until EOF, as `cat` would, then closes `out`.
void Echo(UniqueFd in, UniqueFd out) {
  std::vector<char> buf(1 << 16);
  while (true) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n <= 0) break;
    if (!SendAll(out.get(), std::string_view(buf.data(), static_cast<size_t>(n)))) break;
  }
}

// A service on `channel` echoing its stdin to its stdout, exit code `code`.
Status ServeEcho(UniqueFd channel, int32_t code, std::chrono::milliseconds timeout) {
  auto [stdin_sink, echo_in] = SocketPair();
  auto [echo_out, stdout_source] = SocketPair();
  std::thread echo(Echo, std::move(echo_in), std::move(echo_out));
  Status s = RunService(
      std::move(channel), std::move(stdin_sink), std::move(stdout_source), UniqueFd(),
      [&] {
        echo.join();
        return code;
      },
      timeout);
  if (echo.joinable()) echo.join();
  return s;
}

struct EchoRun {
  Hash sent;
  Hash received;
  Result<int32_t> exit = 0;
  Status served;
  double seconds = 0;
};

// One call echoing `bytes` through a data channel, both directions at once.
EchoRun EchoThrough(uint64_t bytes, std::chrono::milliseconds timeout) {
  auto [requester_end, service_end] = SocketPair();
  EchoRun run;
  auto start = std::chrono::steady_clock::now();
  std::thread service([&, ch = std::move(service_end)]() mutable {
    run.served = ServeEcho(std::move(ch), 7, timeout);
  });
  auto [input, input_writer] = SocketPair();
  auto [output_reader, output] = SocketPair();
  std::thread writer([&, fd = std::move(input_writer)]() mutable {
    run.sent = WritePattern(std::move(fd), bytes);
  });
  std::thread reader(
      [&, fd = std::move(output_reader)]() mutable { run.received = ReadHash(std::move(fd)); });
  run.exit = RunRequester(std::move(requester_end), std::move(input), std::move(output), UniqueFd(),
                          timeout);
  writer.join();
  reader.join();
  service.join();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

uint64_t StreamBytes() {
  const char* mib = std::getenv("QNET_QREXEC_STREAM_MIB");
  return (mib ? std::strtoull(mib, nullptr, 10) : 1024) << 20;
}

TEST(QrexecTransport, SocketNamesAreQubesVchanNames) {
  EXPECT_EQ(VchanSocketName({0, 5, kControlPort}), "vchan.0.5.512.sock");
  EXPECT_EQ(VchanSocketName({3, 7, kFirstDataPort}), "vchan.3.7.513.sock");
  EXPECT_EQ(ParseVchanSocketName("vchan.3.7.513.sock").value(), (VchanAddress{3, 7, 513}));
  for (const char* bad : {"vchan.3.7.sock", "vchan.3.x.513.sock", "chan.3.7.513.sock",
                          "vchan.3.7.513", "vchan.03.7.513.sock", "vchan.3.7.513.9.sock"}) {
    SCOPED_TRACE(bad);
    Result<VchanAddress> r = ParseVchanSocketName(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  }
}

class QrexecSocketDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/qnet-qrexec-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(QrexecSocketDir, ClientMayConnectBeforeTheServerListens) {
  UnixSocketTransport transport(dir_);
  VchanAddress address{0, 5, kFirstDataPort};
  Result<UniqueFd> client = Fail(Errc::kInternal, "not run");
  std::thread t([&] { client = transport.Connect(address, 5s); });
  std::this_thread::sleep_for(50ms);  // the client is already retrying
  Result<UniqueFd> server = transport.Accept(address, 5s);
  t.join();
  ASSERT_TRUE(server.has_value()) << server.error().message();
  ASSERT_TRUE(client.has_value()) << client.error().message();
  EXPECT_TRUE(WriteAll(client->get(), "x").ok());
  char c = 0;
  EXPECT_EQ(::read(server->get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
  // The name is free again for the next call on that port.
  EXPECT_FALSE(std::filesystem::exists(transport.PathOf(address)));
}

TEST_F(QrexecSocketDir, AcceptAndConnectTimeOut) {
  UnixSocketTransport transport(dir_);
  Result<UniqueFd> server = transport.Accept({0, 5, 600}, 30ms);
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().code(), Errc::kTimeout);
  Result<UniqueFd> client = transport.Connect({0, 5, 601}, 30ms);
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code(), Errc::kTimeout);
}

TEST(QrexecDataChannel, MissingServiceReachesTheRequesterAsExitCode127WithNoOutput) {
  auto [requester_end, service_end] = SocketPair();
  std::thread service([ch = std::move(service_end)]() mutable {
    EXPECT_TRUE(
        RunService(
            std::move(ch), UniqueFd(), UniqueFd(), UniqueFd(), [] { return kExitNotFound; }, 5s)
            .ok());
  });
  auto [out_reader, out] = SocketPair();
  Result<int32_t> code =
      RunRequester(std::move(requester_end), UniqueFd(), std::move(out), UniqueFd(), 5s);
  service.join();
  ASSERT_TRUE(code.has_value()) << code.error().message();
  EXPECT_EQ(*code, kExitNotFound);
  EXPECT_EQ(ReadAll(out_reader.get()).value(), "");
}

TEST(QrexecDataChannel, RequesterRefusesAFrameInTheWrongDirection) {
  auto [requester_end, peer] = SocketPair();
  std::string bytes = *EncodeFrame(MsgType::kHello, EncodeHello({4})) +
                      *EncodeFrame(MsgType::kDataStdout, "fine") +  // positive control
                      *EncodeFrame(MsgType::kDataStdin, "wrong way");
  ASSERT_TRUE(WriteAll(peer.get(), bytes).ok());
  auto [out_reader, out] = SocketPair();
  Result<int32_t> code =
      RunRequester(std::move(requester_end), UniqueFd(), std::move(out), UniqueFd(), 5s);
  ASSERT_FALSE(code.has_value());
  EXPECT_EQ(code.error().code(), Errc::kProtocol);
  EXPECT_EQ(code.error().message(),
            "data channel: MSG_DATA_STDIN may not travel from a service to a requester");
}

TEST(QrexecDataChannel, RequesterSeesThePeerCloseBeforeTheExitCode) {
  auto [requester_end, peer] = SocketPair();
  ASSERT_TRUE(WriteAll(peer.get(), *EncodeFrame(MsgType::kHello, EncodeHello({3}))).ok());
  peer.reset();
  Result<int32_t> code =
      RunRequester(std::move(requester_end), UniqueFd(), UniqueFd(), UniqueFd(), 5s);
  ASSERT_FALSE(code.has_value());
  // Either the close is seen first, or the EOF we send meets it.
  EXPECT_TRUE(code.error().code() == Errc::kUnavailable || code.error().code() == Errc::kIo)
      << code.error().message();
}

// A service that echoes while it reads: a "read all input first" design
// stalls here, because neither side's output is read while it writes.
TEST(QrexecDataChannel, EchoOf100MBWhileReading100MBDoesNotStall) {
  EchoRun run = EchoThrough(100ull << 20, 60s);
  ASSERT_TRUE(run.exit.has_value()) << run.exit.error().message();
  ASSERT_TRUE(run.served.ok()) << run.served.error().message();
  EXPECT_EQ(*run.exit, 7);
  EXPECT_EQ(run.sent.bytes, 100ull << 20);
  EXPECT_EQ(run.received.bytes, run.sent.bytes);
  EXPECT_EQ(run.received.value, run.sent.value);
}

TEST(QrexecDataChannel, OneGiBEachWayArrivesWholeWithItsChecksum) {
  uint64_t bytes = StreamBytes();
  EchoRun run = EchoThrough(bytes, 300s);
  ASSERT_TRUE(run.exit.has_value()) << run.exit.error().message();
  ASSERT_TRUE(run.served.ok()) << run.served.error().message();
  EXPECT_EQ(run.sent.bytes, bytes);
  EXPECT_EQ(run.received.bytes, bytes);
  EXPECT_EQ(run.received.value, run.sent.value);
  RecordProperty("mib_each_way", static_cast<int>(bytes >> 20));
  RecordProperty("seconds", fmt::format("{:.2f}", run.seconds));
  fmt::print("{} MiB each way in {:.2f} s: {:.0f} MiB/s each way\n", bytes >> 20, run.seconds,
             static_cast<double>(bytes >> 20) / run.seconds);
}

TEST_F(QrexecSocketDir, TwoHundredConcurrentCallsAllComplete) {
  constexpr int kCalls = 200;
  UnixSocketTransport transport(dir_);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    VchanAddress address{0, 5, kFirstDataPort + static_cast<uint32_t>(i)};
    threads.emplace_back([&, address, i] {
      Result<UniqueFd> ch = transport.Accept(address, 60s);
      ASSERT_TRUE(ch.has_value()) << ch.error().message();
      EXPECT_TRUE(ServeEcho(std::move(*ch), i % 100, 60s).ok());
    });
    threads.emplace_back([&, address, i] {
      Result<UniqueFd> ch = transport.Connect(address, 60s);
      ASSERT_TRUE(ch.has_value()) << ch.error().message();
      std::string input = fmt::format("call {} ", i) + std::string(64 * 1024, 'x');
      auto [in, in_writer] = SocketPair();
      auto [out_reader, out] = SocketPair();
      std::thread writer([&input, fd = std::move(in_writer)] { (void)SendAll(fd.get(), input); });
      std::string output;
      std::thread reader(
          [&output, fd = std::move(out_reader)] { output = ReadAll(fd.get()).value_or(""); });
      Result<int32_t> code =
          RunRequester(std::move(*ch), std::move(in), std::move(out), UniqueFd(), 60s);
      writer.join();
      reader.join();
      ASSERT_TRUE(code.has_value()) << code.error().message();
      EXPECT_EQ(*code, i % 100);
      EXPECT_EQ(output, input);
      if (*code == i % 100 && output == input) ++ok;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kCalls);
}

}  // namespace
}  // namespace qnet::qrexec
