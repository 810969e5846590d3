// The userspace backend against the real Debian wireguard-go, each instance
// in a scratch network namespace this test creates and removes; the two
// namespaces are joined by a veth pair and nothing else, and every address
// used lives inside them.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "qnet/netlink/link.h"
#include "qnet/netlink/route.h"
#include "qnet/runtime/namespaces.h"
#include "qnet/vpn/wg_uapi.h"
#include "wg_fixture.h"

namespace qnet::vpn {
namespace {

using namespace std::chrono_literals;
using testing::kWireguardGo;
using testing::Side;

IpPrefix Net(std::string_view s) { return *IpPrefix::Parse(s); }
IpAddr Ip(std::string_view s) { return *IpAddr::Parse(s); }

class WireguardGoNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates network namespaces)";
    if (::access(kWireguardGo, X_OK) != 0)
      GTEST_SKIP() << "needs wireguard-go (apt-get install wireguard-go)";
    const int tag = ::getpid() % 100000;
    for (auto [side, suffix] : {std::pair{&a_, 'a'}, std::pair{&b_, 'b'}}) {
      side->ns_name = fmt::format("qnettest-{}-wg{}", ::getpid(), suffix);
      side->ifname = fmt::format("qwg{}{}", tag, suffix);
      auto ns = runtime::PinnedNetns::Create("/run/netns/" + side->ns_name);
      ASSERT_TRUE(ns.has_value()) << ns.error().message();
      side->ns = *std::move(ns);
      auto s = netlink::Socket::OpenInNetns(NETLINK_ROUTE, side->ns.fd());
      ASSERT_TRUE(s.has_value()) << s.error().message();
      side->rtnl.emplace(*std::move(s));
      auto priv = GeneratePrivateKey();
      ASSERT_TRUE(priv.has_value());
      side->private_key = *priv;
      side->public_key = *PublicKeyOf(*priv);
      ASSERT_TRUE(netlink::SetLinkUp(*side->rtnl, "lo", true).ok());
    }
    // The underlay: va (10.250.0.1) in A, vb (10.250.0.2) in B.
    Status veth = netlink::CreateVeth(
        *a_.rtnl, {.name = "va", .peer_name = "vb", .peer_netns_fd = b_.ns.fd()});
    ASSERT_TRUE(veth.ok()) << veth.error().message();
    ASSERT_TRUE(netlink::AddAddress(*a_.rtnl, "va", Net("10.250.0.1/24")).ok());
    ASSERT_TRUE(netlink::AddAddress(*b_.rtnl, "vb", Net("10.250.0.2/24")).ok());
    ASSERT_TRUE(netlink::SetLinkUp(*a_.rtnl, "va", true).ok());
    ASSERT_TRUE(netlink::SetLinkUp(*b_.rtnl, "vb", true).ok());
    for (Side* side : {&a_, &b_}) {
      Status started = side->StartDaemon();
      ASSERT_TRUE(started.ok()) << started.error().message();
    }
  }

  // The device for `self` talking to `other` over the underlay.
  static Device TunnelDevice(const Side& self, const Side& other, uint16_t port,
                             std::string_view other_underlay, uint16_t other_port,
                             std::string_view other_tunnel) {
    Device d;
    d.name = self.ifname;
    d.private_key = self.private_key;
    d.listen_port = port;
    d.replace_peers = true;
    DevicePeer p;
    p.public_key = other.public_key;
    p.endpoint = SocketAddr{Ip(other_underlay), other_port};
    p.allowed_ips = {IpPrefix::Host(Ip(other_tunnel))};
    p.replace_allowed_ips = true;
    d.peers.push_back(p);
    return d;
  }

  Side a_;
  Side b_;
};

TEST_F(WireguardGoNetns, ConfiguresADeviceAndReadsItBack) {
  UapiClient client(a_.SocketPath());
  Device d;
  d.name = a_.ifname;
  d.private_key = a_.private_key;
  d.listen_port = 51820;
  d.replace_peers = true;
  for (uint8_t i = 1; i <= 3; ++i) {
    DevicePeer p;
    p.public_key = *PublicKeyOf(*GeneratePrivateKey());
    p.endpoint = SocketAddr{IpAddr::V4(10, 250, 0, static_cast<uint8_t>(10 + i)), 51820};
    p.persistent_keepalive = i == 1 ? 25 : 0;
    p.allowed_ips = {IpPrefix(IpAddr::V4(10, 251, i, 0), 24),
                     IpPrefix(Ip(fmt::format("fd00:{}::", i)), 64)};
    p.replace_allowed_ips = true;
    d.peers.push_back(p);
  }
  Status set = client.SetDevice(d);
  ASSERT_TRUE(set.ok()) << set.error().message();
  auto got = client.GetDevice();
  ASSERT_TRUE(got.has_value()) << got.error().message();
  EXPECT_EQ(got->private_key, d.private_key);
  EXPECT_EQ(got->listen_port, 51820);
  ASSERT_EQ(got->peers.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    // wireguard-go lists peers in no fixed order: match by key.
    auto it = std::find_if(got->peers.begin(), got->peers.end(), [&](const DevicePeer& p) {
      return p.public_key == d.peers[i].public_key;
    });
    ASSERT_NE(it, got->peers.end()) << "peer " << i;
    EXPECT_EQ(it->endpoint, d.peers[i].endpoint);
    EXPECT_EQ(it->persistent_keepalive, d.peers[i].persistent_keepalive);
    std::vector<IpPrefix> ips = it->allowed_ips;
    std::sort(ips.begin(), ips.end());
    std::vector<IpPrefix> want = d.peers[i].allowed_ips;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(ips, want);
  }
  // Removing one peer leaves the other two.
  Device remove{.name = a_.ifname,
                .peers = {DevicePeer{.public_key = d.peers[1].public_key, .remove = true}}};
  ASSERT_TRUE(client.SetDevice(remove).ok());
  auto after = client.GetDevice();
  ASSERT_TRUE(after.has_value()) << after.error().message();
  EXPECT_EQ(after->peers.size(), 2u);
  // A bad request is refused with the daemon's errno and changes nothing.
  Device bad{.name = a_.ifname,
             .peers = {DevicePeer{.public_key = d.peers[0].public_key, .protocol_version = 7}}};
  Status refused = client.SetDevice(bad);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(client.GetDevice()->peers.size(), 2u);
}

TEST_F(WireguardGoNetns, TwoDaemonsHandshakeAndCarryAPing) {
  for (Side* side : {&a_, &b_}) {
    const bool is_a = side == &a_;
    ASSERT_TRUE(netlink::AddAddress(*side->rtnl, side->ifname,
                                    Net(is_a ? "10.251.0.1/32" : "10.251.0.2/32"))
                    .ok());
    ASSERT_TRUE(netlink::SetLinkUp(*side->rtnl, side->ifname, true).ok());
    Status route =
        netlink::AddRoute(*side->rtnl, {.dst = Net(is_a ? "10.251.0.2/32" : "10.251.0.1/32"),
                                        .dev = side->ifname,
                                        .scope = netlink::Scope::kLink});
    ASSERT_TRUE(route.ok()) << route.error().message();
  }
  // Negative first: with no peers configured nothing crosses the tunnel.
  EXPECT_FALSE(a_.Ping("10.251.0.2"));
  ASSERT_TRUE(UapiClient(a_.SocketPath())
                  .SetDevice(TunnelDevice(a_, b_, 51820, "10.250.0.2", 51821, "10.251.0.2"))
                  .ok());
  ASSERT_TRUE(UapiClient(b_.SocketPath())
                  .SetDevice(TunnelDevice(b_, a_, 51821, "10.250.0.1", 51820, "10.251.0.1"))
                  .ok());
  bool answered = false;
  for (int i = 0; i < 5 && !answered; ++i) answered = a_.Ping("10.251.0.2");
  EXPECT_TRUE(answered) << "no ping through the tunnel";
  auto got = UapiClient(a_.SocketPath()).GetDevice();
  ASSERT_TRUE(got.has_value()) << got.error().message();
  ASSERT_EQ(got->peers.size(), 1u);
  EXPECT_GT(got->peers[0].last_handshake_sec, 0);
  EXPECT_GT(got->peers[0].rx_bytes, 0u);
  EXPECT_GT(got->peers[0].tx_bytes, 0u);
}

}  // namespace
}  // namespace qnet::vpn
