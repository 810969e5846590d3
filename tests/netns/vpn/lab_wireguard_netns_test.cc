// The lab's WireGuard server plan with real wireguard-go: a server
// namespace at 203.0.113.20 and a client namespace, joined by one veth pair
// (the lab router stands between them in the real lab). The client is
// configured only from the generated wg-quick file's text, and reaches the
// server's tunnel address through the tunnel.
#include <gtest/gtest.h>
#include <unistd.h>

#include "qnet/netlink/link.h"
#include "qnet/netlink/route.h"
#include "qnet/vpn/kill_switch.h"
#include "qnet/vpn/lab_wireguard.h"
#include "wg_fixture.h"

namespace qnet::vpn {
namespace {

using testing::kWireguardGo;
using testing::Side;

TEST(LabWireguardNetns, ClientFromTheGeneratedFileReachesTheServerThroughTheTunnel) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates network namespaces)";
  if (::access(kWireguardGo, X_OK) != 0)
    GTEST_SKIP() << "needs wireguard-go (apt-get install wireguard-go)";
  auto plan = GenerateLabWireguardPlan();
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  Side server;
  Side client;
  const int tag = ::getpid() % 100000;
  for (auto [side, suffix] : {std::pair{&server, 's'}, std::pair{&client, 'c'}}) {
    side->ns_name = fmt::format("qnettest-{}-lab{}", ::getpid(), suffix);
    side->ifname = fmt::format("qwg{}{}", tag, suffix);
    auto ns = runtime::PinnedNetns::Create("/run/netns/" + side->ns_name);
    ASSERT_TRUE(ns.has_value()) << ns.error().message();
    side->ns = *std::move(ns);
    auto s = netlink::Socket::OpenInNetns(NETLINK_ROUTE, side->ns.fd());
    ASSERT_TRUE(s.has_value()) << s.error().message();
    side->rtnl.emplace(*std::move(s));
    ASSERT_TRUE(netlink::SetLinkUp(*side->rtnl, "lo", true).ok());
  }
  Status veth = netlink::CreateVeth(
      *server.rtnl, {.name = "lab0", .peer_name = "up0", .peer_netns_fd = client.ns.fd()});
  ASSERT_TRUE(veth.ok()) << veth.error().message();
  ASSERT_TRUE(
      netlink::AddAddress(*server.rtnl, "lab0", IpPrefix(LabWireguardPlan::ServerAddress(), 24))
          .ok());
  ASSERT_TRUE(netlink::AddAddress(*client.rtnl, "up0", *IpPrefix::Parse("203.0.113.99/24")).ok());
  ASSERT_TRUE(netlink::SetLinkUp(*server.rtnl, "lab0", true).ok());
  ASSERT_TRUE(netlink::SetLinkUp(*client.rtnl, "up0", true).ok());
  for (Side* side : {&server, &client}) {
    Status started = side->StartDaemon();
    ASSERT_TRUE(started.ok()) << started.error().message();
  }

  // Server: the plan's device and its tunnel address.
  Status set = UapiClient(server.SocketPath()).SetDevice(plan->ServerDevice(server.ifname));
  ASSERT_TRUE(set.ok()) << set.error().message();
  ASSERT_TRUE(
      netlink::AddAddress(*server.rtnl, server.ifname, LabWireguardPlan::ServerTunnel()).ok());
  ASSERT_TRUE(netlink::SetLinkUp(*server.rtnl, server.ifname, true).ok());

  // Client: only what the generated file says.
  auto file = ParseWgQuick(FormatWgQuick(plan->ClientConfig()), "lab.conf");
  ASSERT_TRUE(file.has_value()) << file.error().message();
  auto endpoints = ResolveEndpoints(*file, {});
  ASSERT_TRUE(endpoints.has_value()) << endpoints.error().message();
  ASSERT_TRUE(netlink::AddAddress(*client.rtnl, client.ifname, file->interface.addresses[0]).ok());
  ASSERT_TRUE(netlink::SetLinkUp(*client.rtnl, client.ifname, true).ok());
  ASSERT_TRUE(netlink::AddRoute(*client.rtnl, {.dst = LabWireguardPlan::ServerTunnel().Network(),
                                               .dev = client.ifname,
                                               .scope = netlink::Scope::kLink})
                  .ok());
  // Negative control: the route is there, the tunnel is not configured yet.
  EXPECT_FALSE(client.Ping("10.66.66.1"));
  auto device = DeviceFromConfig(*file, client.ifname,
                                 {SocketAddr{(*endpoints)[0].addr, (*endpoints)[0].port}});
  ASSERT_TRUE(device.has_value()) << device.error().message();
  set = UapiClient(client.SocketPath()).SetDevice(*device);
  ASSERT_TRUE(set.ok()) << set.error().message();
  bool answered = false;
  for (int i = 0; i < 5 && !answered; ++i) answered = client.Ping("10.66.66.1");
  EXPECT_TRUE(answered) << "no ping through the lab tunnel";
  auto got = UapiClient(server.SocketPath()).GetDevice();
  ASSERT_TRUE(got.has_value()) << got.error().message();
  ASSERT_EQ(got->peers.size(), 1u);
  EXPECT_GT(got->peers[0].last_handshake_sec, 0);
  EXPECT_EQ(got->peers[0].endpoint,
            (SocketAddr{*IpAddr::Parse("203.0.113.99"), got->peers[0].endpoint->port}));
}

}  // namespace
}  // namespace qnet::vpn
