// The kernel backend against the running kernel, in a namespace of its own.
// This machine's kernel has no WireGuard: the backend must say so plainly
// (the vpn role then falls back to wireguard-go); with the module present
// the same test proves the round trip through the real family.
#include <gtest/gtest.h>
#include <unistd.h>

#include "qnet/netlink/link.h"
#include "qnet/runtime/namespaces.h"
#include "qnet/vpn/wg_genl.h"

namespace qnet::vpn {
namespace {

class KernelWgNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates a network namespace)";
    auto ns = runtime::PinnedNetns::Create(fmt::format("/run/netns/qnettest-{}-wg", ::getpid()));
    ASSERT_TRUE(ns.has_value()) << ns.error().message();
    ns_ = *std::move(ns);
    auto rtnl = netlink::Socket::OpenInNetns(NETLINK_ROUTE, ns_.fd());
    ASSERT_TRUE(rtnl.has_value()) << rtnl.error().message();
    rtnl_.emplace(*std::move(rtnl));
  }

  Result<KernelWg> OpenGenl() {
    QNET_ASSIGN_OR_RETURN(netlink::Socket s,
                          netlink::Socket::OpenInNetns(NETLINK_GENERIC, ns_.fd()));
    return KernelWg::Open(std::move(s));
  }

  runtime::PinnedNetns ns_;
  std::optional<netlink::Socket> rtnl_;
};

TEST_F(KernelWgNetns, ReportsAKernelWithoutWireGuardClearly) {
  Status link = CreateWireguardLink(*rtnl_, "wg0");
  auto genl = OpenGenl();
  if (link.ok()) {
    // The module is there: the family must be too, and the link is real.
    ASSERT_TRUE(genl.has_value()) << genl.error().message();
    auto info = netlink::GetLink(*rtnl_, "wg0");
    ASSERT_TRUE(info.has_value()) << info.error().message();
    EXPECT_EQ(info->kind, "wireguard");
    return;
  }
  EXPECT_EQ(link.error().code(), Errc::kUnavailable) << link.error().message();
  EXPECT_NE(link.error().message().find("no WireGuard in this kernel"), std::string::npos)
      << link.error().message();
  EXPECT_NE(link.error().message().find("creating wireguard link wg0"), std::string::npos)
      << link.error().message();
  // Nothing was left behind, and a veth pair of the same name works
  // (positive control: the failure is WireGuard's, not the namespace's).
  EXPECT_EQ(netlink::GetLink(*rtnl_, "wg0").error().code(), Errc::kNotFound);
  Status veth = netlink::CreateVeth(*rtnl_, {.name = "wg0", .peer_name = "wg0p"});
  EXPECT_TRUE(veth.ok()) << veth.error().message();
  ASSERT_FALSE(genl.has_value());
  EXPECT_EQ(genl.error().code(), Errc::kUnavailable) << genl.error().message();
  EXPECT_NE(genl.error().message().find("generic netlink family \"wireguard\""), std::string::npos)
      << genl.error().message();
}

TEST_F(KernelWgNetns, SetsAndReadsBackADeviceWithManyPeers) {
  Status link = CreateWireguardLink(*rtnl_, "wg0");
  if (!link.ok() && link.error().code() == Errc::kUnavailable)
    GTEST_SKIP() << "needs the wireguard kernel module: " << link.error().message();
  ASSERT_TRUE(link.ok()) << link.error().message();
  auto genl = OpenGenl();
  ASSERT_TRUE(genl.has_value()) << genl.error().message();

  Device d;
  d.name = "wg0";
  std::array<uint8_t, kKeyLen> priv{};
  priv.fill(0x41);
  priv[0] &= 248;  // a clamped Curve25519 private key
  priv[31] = (priv[31] & 127) | 64;
  d.private_key = Key(priv);
  d.listen_port = 40000;
  d.replace_peers = true;
  for (int i = 0; i < 200; ++i) {
    DevicePeer p;
    std::array<uint8_t, kKeyLen> k{};
    k[0] = static_cast<uint8_t>(i);
    k[1] = 9;
    p.public_key = Key(k);
    p.endpoint = SocketAddr{IpAddr::V4(203, 0, 113, static_cast<uint8_t>(i % 200 + 1)), 51820};
    for (int j = 0; j < 20; ++j)
      p.allowed_ips.push_back(
          IpPrefix(IpAddr::V4(10, static_cast<uint8_t>(i), static_cast<uint8_t>(j), 0), 24));
    p.replace_allowed_ips = true;
    d.peers.push_back(p);
  }
  Status set = genl->SetDevice(d);
  ASSERT_TRUE(set.ok()) << set.error().message();
  auto got = genl->GetDevice("wg0");
  ASSERT_TRUE(got.has_value()) << got.error().message();
  EXPECT_EQ(got->private_key, d.private_key);
  EXPECT_EQ(got->listen_port, 40000);
  ASSERT_EQ(got->peers.size(), d.peers.size());
  for (size_t i = 0; i < d.peers.size(); ++i) {
    EXPECT_EQ(got->peers[i].public_key, d.peers[i].public_key);
    EXPECT_EQ(got->peers[i].endpoint, d.peers[i].endpoint);
    EXPECT_EQ(got->peers[i].allowed_ips.size(), d.peers[i].allowed_ips.size());
  }
  // Removing one peer leaves the others.
  Device remove{.name = "wg0",
                .peers = {DevicePeer{.public_key = d.peers[5].public_key, .remove = true}}};
  ASSERT_TRUE(genl->SetDevice(remove).ok());
  auto after = genl->GetDevice("wg0");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->peers.size(), d.peers.size() - 1);
}

TEST_F(KernelWgNetns, GetOfAMissingDeviceIsNotFound) {
  auto genl = OpenGenl();
  if (!genl.has_value() && genl.error().code() == Errc::kUnavailable)
    GTEST_SKIP() << "needs the wireguard kernel module: " << genl.error().message();
  ASSERT_TRUE(genl.has_value()) << genl.error().message();
  auto got = genl->GetDevice("nosuch0");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Errc::kNotFound) << got.error().message();
}

}  // namespace
}  // namespace qnet::vpn
