#include "qnet/vpn/wg_uapi.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "qnet/base/unix_socket.h"
#include "wg_device_example.h"

namespace qnet::vpn {
namespace {

using testing::ExampleDevice;
using testing::Ip;
using testing::K;
using testing::Net;
std::string Hex(uint8_t fill) { return K(fill).ToHex(); }

Device SetExample() { return ExampleDevice(SocketAddr{Ip("2001:db8:2::20"), 51820}, 0); }

TEST(WgUapi, SetRequestIsTheDocumentedText) {
  auto req = BuildUapiSet(SetExample());
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(*req,
            "set=1\n"
            "private_key=" +
                Hex(1) +
                "\n"
                "listen_port=0\n"
                "fwmark=333856\n"
                "replace_peers=true\n"
                "public_key=" +
                Hex(2) +
                "\n"
                "preshared_key=" +
                Hex(3) +
                "\n"
                "endpoint=[2001:db8:2::20]:51820\n"
                "persistent_keepalive_interval=25\n"
                "replace_allowed_ips=true\n"
                "allowed_ip=0.0.0.0/0\n"
                "allowed_ip=::/0\n"
                "public_key=" +
                Hex(4) +
                "\n"
                "remove=true\n"
                "\n");
}

const std::string kGetReply = "private_key=" + Hex(1) +
                              "\n"
                              "listen_port=40000\n"
                              "fwmark=7\n"
                              "public_key=" +
                              Hex(2) +
                              "\n"
                              "preshared_key=" +
                              Hex(0) +
                              "\n"
                              "protocol_version=1\n"
                              "endpoint=203.0.113.20:51820\n"
                              "last_handshake_time_sec=1700000000\n"
                              "last_handshake_time_nsec=12\n"
                              "tx_bytes=100\n"
                              "rx_bytes=200\n"
                              "persistent_keepalive_interval=0\n"
                              "allowed_ip=0.0.0.0/0\n"
                              "allowed_ip=::/0\n"
                              "public_key=" +
                              Hex(5) +
                              "\n"
                              "endpoint=[2001:db8:2::20]:443\n"
                              "a_future_key=whatever\n"
                              "errno=0\n"
                              "\n";

TEST(WgUapi, ParsesAGetReply) {
  auto d = ParseUapiGet(kGetReply);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->private_key, K(1));
  EXPECT_EQ(d->listen_port, 40000);
  EXPECT_EQ(d->fwmark, 7u);
  ASSERT_EQ(d->peers.size(), 2u);
  const DevicePeer& p = d->peers[0];
  EXPECT_EQ(p.public_key, K(2));
  EXPECT_EQ(p.preshared_key, Key());
  EXPECT_EQ(p.protocol_version, 1u);
  EXPECT_EQ(p.endpoint, (SocketAddr{Ip("203.0.113.20"), 51820}));
  EXPECT_EQ(p.last_handshake_sec, 1700000000);
  EXPECT_EQ(p.last_handshake_nsec, 12);
  EXPECT_EQ(p.tx_bytes, 100u);
  EXPECT_EQ(p.rx_bytes, 200u);
  EXPECT_EQ(p.persistent_keepalive, 0);
  EXPECT_EQ(p.allowed_ips, (std::vector<IpPrefix>{Net("0.0.0.0/0"), Net("::/0")}));
  EXPECT_EQ(d->peers[1].endpoint, (SocketAddr{Ip("2001:db8:2::20"), 443}));
}

TEST(WgUapi, RefusesBadRepliesNamingTheKeyNotTheValue) {
  const std::string bad_hex(63, 'a');
  const std::pair<std::string, std::string> cases[] = {
      {"", "cut off (no blank line at the end)"},
      {"listen_port=1\nerrno=0\n", "cut off (no blank line at the end)"},
      {"listen_port=1\n", "cut off"},
      {"errno=0\n\nlisten_port=1\n\n", "bytes after the final blank line"},
      {"listen_port=1\n\n", "does not end with errno="},
      {"errno=x\n\n", "errno: not a number"},
      {"listen_port\nerrno=0\n\n", "a line without key=value"},
      {"listen_port=65536\nerrno=0\n\n", "listen_port: not a number up to 65535"},
      {"private_key=" + bad_hex + "\nerrno=0\n\n", "private_key: not a WireGuard key: 63 hex"},
      {"public_key=" + std::string(62, 'a') + "zz\nerrno=0\n\n",
       "public_key: not a WireGuard key: a character that is not hex"},
      {"endpoint=1.2.3.4:5\nerrno=0\n\n", "endpoint: before any public_key"},
      {"public_key=" + Hex(1) + "\nendpoint=1.2.3.4\nerrno=0\n\n", "endpoint: not address:port"},
      {"public_key=" + Hex(1) + "\nendpoint=[1.2.3.4]:5\nerrno=0\n\n", "endpoint: not an address"},
      {"public_key=" + Hex(1) + "\nallowed_ip=10.0.0.0\nerrno=0\n\n",
       "allowed_ip: not address/length"},
  };
  for (const auto& [reply, why] : cases) {
    auto d = ParseUapiGet(reply);
    ASSERT_FALSE(d.has_value()) << reply;
    EXPECT_EQ(d.error().code(), Errc::kProtocol) << reply;
    EXPECT_NE(d.error().message().find(why), std::string::npos) << d.error().message();
    EXPECT_EQ(d.error().message().find(std::string(16, 'a')), std::string::npos);
  }
}

TEST(WgUapi, ErrnoRepliesBecomeErrors) {
  EXPECT_TRUE(ParseUapiErrno("errno=0\n\n").ok());
  Status s = ParseUapiErrno("errno=22\n\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().sys_errno(), 22);
  EXPECT_NE(s.error().message().find("Invalid argument"), std::string::npos);
  auto g = ParseUapiGet("errno=19\n\n");
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().sys_errno(), 19);
}

// A scripted daemon on a real Unix socket: reads one request (up to its
// blank line), then writes `reply` and closes, or stays silent.
class FakeDaemon {
 public:
  enum class Mode { kReply, kSilent, kHangUp };
  FakeDaemon(std::string reply, bool silent = false)
      : FakeDaemon(std::move(reply), silent ? Mode::kSilent : Mode::kReply) {}
  FakeDaemon(std::string reply, Mode mode) {
    char tmpl[] = "/tmp/qnet-uapi-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/wg0.sock";
    auto fd = ListenUnix(path_);
    EXPECT_TRUE(fd.has_value()) << fd.error().message();
    listen_ = *std::move(fd);
    thread_ = std::thread([this, reply = std::move(reply), mode] {
      UniqueFd conn(::accept(listen_.get(), nullptr, nullptr));
      if (!conn || mode == Mode::kHangUp) return;
      const bool silent = mode == Mode::kSilent;
      char buf[4096];
      while (request_.find("\n\n") == std::string::npos) {
        ssize_t n = ::read(conn.get(), buf, sizeof buf);
        if (n <= 0) break;
        request_.append(buf, static_cast<size_t>(n));
      }
      if (silent) {
        ::read(conn.get(), buf, sizeof buf);  // until the client gives up and closes
        return;
      }
      (void)WriteAll(conn.get(), reply);
    });
  }
  ~FakeDaemon() {
    Join();
    std::filesystem::remove_all(dir_);
  }
  const std::string& path() const { return path_; }
  // Waits for the daemon to finish; returns the request it read.
  std::string Join() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  std::string dir_;
  std::string path_;
  UniqueFd listen_;
  std::string request_;
  std::thread thread_;
};

TEST(UapiClient, GetsAndSetsThroughASocket) {
  {
    FakeDaemon daemon(kGetReply + "trailing junk of the next reply");
    auto d = UapiClient(daemon.path()).GetDevice();
    ASSERT_TRUE(d.has_value()) << d.error().message();
    EXPECT_EQ(d->peers.size(), 2u);
  }
  {
    FakeDaemon daemon("errno=0\n\n");
    Status s = UapiClient(daemon.path()).SetDevice(SetExample());
    ASSERT_TRUE(s.ok()) << s.error().message();
  }
}

TEST(UapiClient, ReportsErrorTruncatedAndSilentDaemons) {
  {
    FakeDaemon daemon("errno=95\n\n");
    Status s = UapiClient(daemon.path()).SetDevice(SetExample());
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().sys_errno(), 95);
    EXPECT_NE(s.error().message().find(daemon.path()), std::string::npos);
  }
  {
    FakeDaemon daemon("private_key=" + Hex(1) + "\nlisten_p");
    auto d = UapiClient(daemon.path()).GetDevice();
    ASSERT_FALSE(d.has_value());
    EXPECT_EQ(d.error().code(), Errc::kProtocol);
    EXPECT_NE(d.error().message().find("cut off"), std::string::npos) << d.error().message();
  }
  {
    FakeDaemon daemon("", /*silent=*/true);
    const auto start = std::chrono::steady_clock::now();
    auto d = UapiClient(daemon.path(), std::chrono::milliseconds(200)).GetDevice();
    ASSERT_FALSE(d.has_value());
    EXPECT_EQ(d.error().code(), Errc::kTimeout) << d.error().message();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  }
  auto missing = UapiClient("/nonexistent/wg0.sock").GetDevice();
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("/nonexistent/wg0.sock"), std::string::npos);
}

TEST(UapiClient, ADaemonThatHangsUpIsAnErrorNotASignal) {
  FakeDaemon daemon("", FakeDaemon::Mode::kHangUp);
  Device big = SetExample();
  for (int i = 0; i < 20000; ++i) {
    std::array<uint8_t, kKeyLen> k{};
    k[0] = static_cast<uint8_t>(i);
    k[1] = static_cast<uint8_t>(i >> 8);
    k[2] = 0xee;
    big.peers.push_back(DevicePeer{.public_key = Key(k), .allowed_ips = {Net("10.0.0.0/8")}});
  }
  // The daemon closes the connection as soon as it accepts it; the request
  // is far larger than the socket buffer, so sending runs into the hang-up.
  Status s = UapiClient(daemon.path()).SetDevice(big);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find(daemon.path()), std::string::npos) << s.error().message();
}

TEST(UapiClient, SendsExactlyTheSetRequest) {
  FakeDaemon daemon("errno=0\n\n");
  ASSERT_TRUE(UapiClient(daemon.path()).SetDevice(SetExample()).ok());
  EXPECT_EQ(daemon.Join(), *BuildUapiSet(SetExample()));
  FakeDaemon getter(kGetReply);
  ASSERT_TRUE(UapiClient(getter.path()).GetDevice().has_value());
  EXPECT_EQ(getter.Join(), "get=1\n\n");
}

TEST(WgUapi, SocketPathIsPerInterface) {
  EXPECT_EQ(UapiSocketPath("wg0"), "/var/run/wireguard/wg0.sock");
  EXPECT_EQ(UapiSocketPath("wg1", "/run/qnet/x"), "/run/qnet/x/wg1.sock");
}

}  // namespace
}  // namespace qnet::vpn
