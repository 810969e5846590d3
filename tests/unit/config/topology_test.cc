#include "qnet/config/topology.h"

#include <gtest/gtest.h>

#include "qnet/config/chain_file.h"
#include "test_registry.h"

namespace qnet::config {
namespace {

using Names = std::vector<std::string>;

// Clients listed before their netvms, on purpose.
constexpr char kChain[] = R"([chain]
name = "topo"
[qube.anon-ws]
role = "app"
label = "red"
netvm = "sys-whonix"
[qube.work]
role = "app"
label = "blue"
netvm = "sys-firewall"
[qube.sys-whonix]
role = "tor"
label = "black"
netvm = "sys-vpn"
[qube.sys-vpn]
role = "vpn"
label = "orange"
netvm = "sys-firewall"
[qube.sys-firewall]
role = "firewall"
label = "green"
netvm = "sys-net"
[qube.sys-net]
role = "net"
label = "red"
)";

ChainSpec Parsed() { return ParseChainText(kChain, "topo.toml", testing::TestRegistry()).value(); }

TEST(Topology, OrderPutsEveryNetvmBeforeItsClients) {
  auto order = TopologicalOrder(Parsed());
  ASSERT_TRUE(order.has_value()) << order.error().message();
  EXPECT_EQ(*order, (Names{"sys-net", "sys-firewall", "work", "sys-vpn", "sys-whonix", "anon-ws"}));
}

TEST(Topology, ClientsOfInFileOrder) {
  ChainSpec spec = Parsed();
  EXPECT_EQ(ClientsOf(spec, "sys-firewall"), (Names{"work", "sys-vpn"}));
  EXPECT_EQ(ClientsOf(spec, "sys-net"), (Names{"sys-firewall"}));
  EXPECT_TRUE(ClientsOf(spec, "anon-ws").empty());
  EXPECT_TRUE(ClientsOf(spec, "nope").empty());
}

TEST(Topology, PathToNet) {
  ChainSpec spec = Parsed();
  EXPECT_EQ(PathToNet(spec, "anon-ws").value(),
            (Names{"anon-ws", "sys-whonix", "sys-vpn", "sys-firewall", "sys-net"}));
  EXPECT_EQ(PathToNet(spec, "sys-net").value(), (Names{"sys-net"}));
  auto unknown = PathToNet(spec, "nope");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), Errc::kNotFound);
}

TEST(Topology, EditedSpecWithCycleIsReported) {
  ChainSpec spec = Parsed();
  spec.FindQube("sys-firewall")->netvm = "sys-vpn";
  auto order = TopologicalOrder(spec);
  ASSERT_FALSE(order.has_value());
  EXPECT_EQ(order.error().message(), "netvm cycle: sys-vpn -> sys-firewall -> sys-vpn");
  EXPECT_FALSE(PathToNet(spec, "work").has_value());
  Status s = ValidateChainSpec(spec, testing::TestRegistry());
  ASSERT_FALSE(s.ok());
  // Positions of a parsed spec survive edits; the cycle is named at the
  // first qube in file order that lies on it.
  EXPECT_EQ(s.error().message(),
            "topo.toml:18:9: qube.sys-vpn.netvm: netvm cycle: sys-vpn -> sys-firewall -> sys-vpn");
}

}  // namespace
}  // namespace qnet::config
