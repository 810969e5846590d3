// Runs the built qnet-lab binary on 127.0.0.1 with free high ports and talks
// to it with plain sockets, as qnet's own tests and curl/dig would.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "dns_test_util.h"
#include "qnet/base/fd.h"
#include "qnet/base/process.h"

#ifndef QNET_LAB_BINARY
#error "QNET_LAB_BINARY must name the built qnet-lab"
#endif

namespace qnet::lab {
namespace {

using namespace std::chrono_literals;

// A scratch directory removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "qnet-lab-test.XXXXXX").string();
    if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  bool ok() const { return !path_.empty(); }

 private:
  std::string path_;
};

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

UniqueFd Socket(int type) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  timeval tv{3, 0};  // every read in these tests is bounded
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return fd;
}

// A port free for both UDP and TCP on 127.0.0.1 right now.
uint16_t FreePort() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    UniqueFd udp = Socket(SOCK_DGRAM);
    sockaddr_in sa = Loopback(0);
    socklen_t len = sizeof(sa);
    if (::bind(udp.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) continue;
    ::getsockname(udp.get(), reinterpret_cast<sockaddr*>(&sa), &len);
    UniqueFd tcp = Socket(SOCK_STREAM);
    if (::bind(tcp.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0)
      return ntohs(sa.sin_port);
  }
  return 0;
}

// qnet-lab as a child; stopped (SIGTERM, then SIGKILL) when destroyed.
class LabProcess {
 public:
  // Starts qnet-lab with args and waits up to 5 s for "ready" on its stdout.
  // With capture_stderr, stderr goes to a pipe that Stderr() reads after exit.
  bool Start(std::vector<std::string> args, bool capture_stderr = false) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return false;
    stdout_.reset(out[0]);
    UniqueFd out_w(out[1]);
    stderr_.reset(err[0]);
    UniqueFd err_w(err[1]);
    SpawnOptions opts;
    opts.argv = {QNET_LAB_BINARY};
    opts.argv.insert(opts.argv.end(), args.begin(), args.end());
    opts.fds = {-1, out_w.get(), capture_stderr ? err_w.get() : 2};
    auto child = Spawn(opts);
    if (!child) return false;
    child_ = std::move(*child);
    out_w.reset();
    err_w.reset();
    return ReadLine(stdout_.get(), 5s) == "ready";
  }

  ~LabProcess() {
    if (child_.valid()) {
      (void)child_.Kill(SIGTERM);
      (void)child_.WaitFor(std::chrono::milliseconds(3000));
    }
  }

  Result<int> Stop() {
    QNET_TRY(child_.Kill(SIGTERM));
    return child_.WaitFor(std::chrono::milliseconds(5000));
  }
  Result<int> WaitExit() { return child_.WaitFor(std::chrono::milliseconds(5000)); }
  pid_t pid() const { return child_.pid(); }
  std::string Stderr() { return ReadAll(stderr_.get()).value_or(""); }

 private:
  static std::string ReadLine(int fd, std::chrono::milliseconds timeout) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline && line.size() < 256) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c;
      if (::read(fd, &c, 1) != 1) break;
      if (c == '\n') return line;
      line.push_back(c);
    }
    return line;
  }

  ChildProcess child_;
  UniqueFd stdout_;
  UniqueFd stderr_;
};

std::vector<uint8_t> UdpExchange(uint16_t port, const std::vector<uint8_t>& request) {
  UniqueFd fd = Socket(SOCK_DGRAM);
  sockaddr_in sa = Loopback(port);
  ::sendto(fd.get(), request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&sa),
           sizeof(sa));
  std::vector<uint8_t> buf(65536);
  ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return buf;
}

// Sends request, half-closes if asked, and reads until EOF or max bytes.
std::string TcpExchange(uint16_t port, const std::string& request, bool half_close,
                        size_t max = 1 << 20) {
  UniqueFd fd = Socket(SOCK_STREAM);
  sockaddr_in sa = Loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return "<connect>";
  if (!WriteAll(fd.get(), request)) return "<write>";
  if (half_close) ::shutdown(fd.get(), SHUT_WR);
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t n = ::read(fd.get(), buf, std::min(sizeof(buf), max - out.size()));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string AnswerAddress(const testing::DecodedResponse& r) {
  if (r.answers.size() != 1 || r.answers[0].rdata.size() != 4) return "<none>";
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, r.answers[0].rdata.data(), text, sizeof(text));
  return text;
}

// Rename over the old file, as an editor or qnetd would: a new inode is a
// change whatever the file system's timestamp granularity.
void ReplaceFile(const std::string& path, const std::string& text) {
  ASSERT_TRUE(WriteFile(path + ".new", text).ok());
  std::filesystem::rename(path + ".new", path);
}

class LabDnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    records_ = dir_.File("records");
    log_ = dir_.File("queries.log");
    ASSERT_TRUE(WriteFile(records_, "# lab\nweb.lab A 203.0.113.10 300\n").ok());
    port_ = FreePort();
    ASSERT_NE(port_, 0);
    ASSERT_TRUE(lab_.Start({"dns", "--records", records_, "--log", log_, "--bind", "127.0.0.1",
                            "--port", std::to_string(port_)}));
  }

  testing::DecodedResponse AskUdp(const std::string& name, uint16_t id = 0x4242) {
    return testing::Decode(UdpExchange(port_, testing::MakeQuery(id, name, kTypeA)));
  }

  TempDir dir_;
  std::string records_;
  std::string log_;
  uint16_t port_ = 0;
  LabProcess lab_;
};

TEST_F(LabDnsTest, AnswersUdpQueryForWebLabFromTheRecordsFile) {
  auto r = AskUdp("web.lab");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.header.id, 0x4242);
  EXPECT_EQ(r.rcode(), kRcodeNoError);
  EXPECT_TRUE(r.aa());
  EXPECT_EQ(AnswerAddress(r), "203.0.113.10");
  EXPECT_EQ(r.answers[0].ttl, 300u);
  EXPECT_EQ(AskUdp("missing.lab").rcode(), kRcodeNxDomain);
}

TEST_F(LabDnsTest, AnswersTcpQueryWithLengthPrefix) {
  auto q = testing::MakeQuery(7, "WEB.LAB.", kTypeA);
  std::string framed = {static_cast<char>(q.size() >> 8), static_cast<char>(q.size())};
  framed.append(q.begin(), q.end());
  std::string reply = TcpExchange(port_, framed, true);
  ASSERT_GE(reply.size(), 2u);
  size_t len = (static_cast<uint8_t>(reply[0]) << 8) | static_cast<uint8_t>(reply[1]);
  ASSERT_EQ(reply.size(), len + 2);
  auto r = testing::Decode(std::vector<uint8_t>(reply.begin() + 2, reply.end()));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(AnswerAddress(r), "203.0.113.10");
}

TEST_F(LabDnsTest, LogsEveryQueryWithSourceProtocolNameAndType) {
  ASSERT_TRUE(AskUdp("web.lab").ok);
  ASSERT_TRUE(AskUdp("Leak.Example").ok);
  auto log = ReadFile(log_);
  ASSERT_TRUE(log.has_value());
  EXPECT_NE(log->find(" 127.0.0.1 udp web.lab A\n"), std::string::npos) << *log;
  EXPECT_NE(log->find(" 127.0.0.1 udp Leak.Example A\n"), std::string::npos) << *log;
  // The first field is a Unix time in milliseconds.
  EXPECT_GT(std::stoll(log->substr(0, log->find(' '))), 1'600'000'000'000LL);
}

TEST_F(LabDnsTest, ChangedRecordsFileChangesTheNextAnswer) {
  ASSERT_EQ(AnswerAddress(AskUdp("web.lab")), "203.0.113.10");
  ReplaceFile(records_, "web.lab A 203.0.113.99 5\n");
  auto r = AskUdp("web.lab");
  EXPECT_EQ(AnswerAddress(r), "203.0.113.99");
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].ttl, 5u);
}

TEST_F(LabDnsTest, BadRecordsFileKeepsThePreviousRecords) {
  ReplaceFile(records_, "web.lab A not-an-address\n");
  EXPECT_EQ(AnswerAddress(AskUdp("web.lab")), "203.0.113.10");
  ::kill(lab_.pid(), SIGHUP);
  EXPECT_EQ(AnswerAddress(AskUdp("web.lab")), "203.0.113.10");
}

TEST_F(LabDnsTest, SighupReloadsTheRecords) {
  // Rewritten in place within the same mtime tick and size would not be
  // seen by stat; SIGHUP forces the reload.
  ASSERT_TRUE(WriteFile(records_, "web.lab A 203.0.113.77 300\n").ok());
  ::kill(lab_.pid(), SIGHUP);
  std::string got;
  for (int i = 0; i < 50 && got != "203.0.113.77"; ++i) {
    got = AnswerAddress(AskUdp("web.lab"));
    if (got != "203.0.113.77") std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(got, "203.0.113.77");
}

TEST_F(LabDnsTest, ExitsCleanlyOnSigterm) {
  auto code = lab_.Stop();
  ASSERT_TRUE(code.has_value()) << code.error().message();
  EXPECT_EQ(*code, 0);
}

TEST(LabDnsStartup, BadRecordsFileExitsNonZeroNamingFileAndLine) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string records = dir.File("records");
  ASSERT_TRUE(WriteFile(records, "web.lab A 203.0.113.10\nweb.lab TXT hello\n").ok());
  LabProcess lab;
  EXPECT_FALSE(lab.Start({"dns", "--records", records, "--log", dir.File("log"), "--bind",
                          "127.0.0.1", "--port", std::to_string(FreePort())},
                         true));
  auto code = lab.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_NE(lab.Stderr().find(records + ":2: unknown type 'TXT'"), std::string::npos);
}

class LabWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http_port_ = FreePort();
    echo_port_ = FreePort();
    ASSERT_NE(http_port_, 0);
    ASSERT_NE(echo_port_, 0);
    ASSERT_NE(http_port_, echo_port_);
    ASSERT_TRUE(lab_.Start({"web", "--bind", "127.0.0.1", "--http-port", std::to_string(http_port_),
                            "--echo-port", std::to_string(echo_port_)}));
  }

  uint16_t http_port_ = 0;
  uint16_t echo_port_ = 0;
  LabProcess lab_;
};

std::string Body(const std::string& response) {
  size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "<no head>" : response.substr(end + 4);
}

TEST_F(LabWebTest, HttpGetBodyIsTheClientsSourceAddress) {
  std::string response =
      TcpExchange(http_port_, "GET /anything HTTP/1.1\r\nHost: web.lab\r\n\r\n", false);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_NE(response.find("Content-Length: 10\r\n"), std::string::npos);
  EXPECT_EQ(Body(response), "127.0.0.1\n");
}

TEST_F(LabWebTest, PostWithBodyStillGetsItsReply) {
  std::string body(100'000, 'b');
  std::string response = TcpExchange(
      http_port_,
      "POST / HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
      false);
  EXPECT_EQ(Body(response), "127.0.0.1\n");
}

TEST_F(LabWebTest, OversizeRequestHeadIsRefusedWith431) {
  std::string head = "GET / HTTP/1.1\r\nX: " + std::string(20'000, 'a') + "\r\n\r\n";
  EXPECT_TRUE(TcpExchange(http_port_, head, false).starts_with("HTTP/1.1 431 "));
}

TEST_F(LabWebTest, UdpEchoReturnsTheSameBytes) {
  std::vector<uint8_t> payload = {'h', 'e', 'l', 'l', 'o', 0, 0xFF};
  EXPECT_EQ(UdpExchange(echo_port_, payload), payload);
}

TEST_F(LabWebTest, TcpEchoReturnsTheSameBytes) {
  EXPECT_EQ(TcpExchange(echo_port_, "ping\n", true), "ping\n");
}

TEST_F(LabWebTest, ExitsCleanlyOnSigterm) {
  auto code = lab_.Stop();
  ASSERT_TRUE(code.has_value()) << code.error().message();
  EXPECT_EQ(*code, 0);
}

TEST(LabWebDualStack, Ipv4ClientOfLoneIpv6WildcardSeesItsIpv4Address) {
  uint16_t http_port = FreePort();
  uint16_t echo_port = FreePort();
  ASSERT_NE(http_port, echo_port);
  LabProcess lab;
  if (!lab.Start({"web", "--bind", "::", "--http-port", std::to_string(http_port), "--echo-port",
                  std::to_string(echo_port)}))
    GTEST_SKIP() << "cannot bind [::] here (IPv6 disabled?)";
  std::string response = TcpExchange(http_port, "GET / HTTP/1.0\r\n\r\n", false);
  EXPECT_EQ(Body(response), "127.0.0.1\n");
}

}  // namespace
}  // namespace qnet::lab
