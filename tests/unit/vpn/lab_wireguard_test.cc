#include "qnet/vpn/lab_wireguard.h"

#include <gtest/gtest.h>

namespace qnet::vpn {
namespace {

TEST(LabWireguard, PlanPairsTheServerAndTheClientFile) {
  auto plan = GenerateLabWireguardPlan();
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  EXPECT_EQ(plan->server_public, *PublicKeyOf(plan->server_private));
  EXPECT_EQ(plan->client_public, *PublicKeyOf(plan->client_private));

  const Device server = plan->ServerDevice("wg-lab");
  EXPECT_EQ(server.listen_port, 51820);
  ASSERT_EQ(server.peers.size(), 1u);
  EXPECT_EQ(server.peers[0].public_key, plan->client_public);
  EXPECT_EQ(server.peers[0].allowed_ips,
            (std::vector<IpPrefix>{*IpPrefix::Parse("10.66.66.2/32"),
                                   *IpPrefix::Parse("fd66:66::2/128")}));

  // The client file is a real wg-quick file: it survives writing and reading.
  const std::string text = FormatWgQuick(plan->ClientConfig());
  auto back = ParseWgQuick(text, "lab.conf");
  ASSERT_TRUE(back.has_value()) << back.error().message() << "\n" << text;
  EXPECT_EQ(*back, plan->ClientConfig());
  ASSERT_EQ(back->peers.size(), 1u);
  EXPECT_EQ(back->peers[0].public_key, plan->server_public);
  EXPECT_EQ(back->peers[0].endpoint.ToString(), "203.0.113.20:51820");
  EXPECT_EQ(back->interface.dns, std::vector<IpAddr>{*IpAddr::Parse("10.66.66.1")});
}

TEST(LabWireguard, RefusesOneKeyForBothEnds) {
  auto k = GeneratePrivateKey();
  ASSERT_TRUE(k.has_value());
  auto plan = MakeLabWireguardPlan(*k, *k);
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().message(), "lab wireguard: server and client share a key");
  EXPECT_FALSE(MakeLabWireguardPlan(Key(), *k).has_value());
}

}  // namespace
}  // namespace qnet::vpn
