// The kill switch committed to the kernel's nftables in a scratch network
// namespace: the kernel accepts every rule, set and counter, reads them back
// as compiled, and an endpoint refresh changes only the sets.
#include <gtest/gtest.h>
#include <unistd.h>

#include "qnet/nft/base_table.h"
#include "qnet/nft/readback.h"
#include "qnet/nft/transaction.h"
#include "qnet/runtime/namespaces.h"
#include "qnet/vpn/kill_switch.h"

namespace qnet::vpn {
namespace {

IpAddr Ip(std::string_view s) { return *IpAddr::Parse(s); }

class KillSwitchNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates a network namespace)";
    auto ns = runtime::PinnedNetns::Create(fmt::format("/run/netns/qnettest-{}-ks", ::getpid()));
    ASSERT_TRUE(ns.has_value()) << ns.error().message();
    ns_ = *std::move(ns);
    auto s = netlink::Socket::OpenInNetns(NETLINK_NETFILTER, ns_.fd());
    ASSERT_TRUE(s.has_value()) << s.error().message();
    sock_.emplace(*std::move(s));
  }
  void CommitOk(const nft::Batch& b) {
    Status s = nft::Commit(*sock_, b);
    ASSERT_TRUE(s.ok()) << s.error().message();
  }

  runtime::PinnedNetns ns_;
  std::optional<netlink::Socket> sock_;
};

TEST_F(KillSwitchNetns, KernelAcceptsAndReadsBackTheKillSwitch) {
  auto config = ParseWgQuick(
      "[Interface]\nPrivateKey = AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"
      "Address = 10.64.0.2/32, fd00::2/128\nDNS = 10.64.0.1\n"
      "[Peer]\nPublicKey = AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n"
      "Endpoint = vpn.lab:51820\nAllowedIPs = 0.0.0.0/0, ::/0\n",
      "lab.conf");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  for (Backend backend : {Backend::kKernel, Backend::kUserspace}) {
    KillSwitchInput in{.config = &*config,
                       .backend = backend,
                       .uplink = "eth0",
                       .tunnel = backend == Backend::kKernel ? "wg0" : "wgns0",
                       .endpoints = {SocketAddr{Ip("203.0.113.20"), 51820},
                                     SocketAddr{Ip("2001:db8:2::20"), 51820}},
                       .chain_routes_ipv6 = true,
                       .fwmark = 0x51820};
    auto ks = CompileKillSwitch(in);
    ASSERT_TRUE(ks.has_value()) << ks.error().message();
    CommitOk(nft::LockdownBatch());
    CommitOk(nft::InstallCapabilitiesBatch({std::string(kVpnCapability), "netvm"}));
    CommitOk(KillSwitchBatch(*ks));

    auto state = nft::ReadTable(*sock_, nft::Family::kInet, nft::kQnetTableName);
    ASSERT_TRUE(state.has_value()) << state.error().message();
    for (const nft::Chain& c : ks->chains) {
      const nft::ChainState* got = state->FindChain(c.name);
      ASSERT_NE(got, nullptr) << c.name;
      std::vector<nft::Rule> want;
      for (const nft::Rule& r : ks->rules)
        if (r.chain == c.name) want.push_back(r);
      ASSERT_EQ(got->rules.size(), want.size()) << c.name;
      for (size_t i = 0; i < want.size(); ++i)
        EXPECT_EQ(got->rules[i].rule.exprs, want[i].exprs)
            << nft::ToString(got->rules[i].rule) << "\nwant " << nft::ToString(want[i]);
    }
    for (std::string_view counter : {kDropForwardCounter, kDropOutputCounter, kDropDnsCounter})
      EXPECT_NE(state->FindCounter(counter), nullptr) << counter;
    const nft::SetState* s4 = state->FindSet(kEndpointSet4);
    ASSERT_NE(s4, nullptr);
    EXPECT_EQ(s4->elements, ks->sets[0].elements);

    // A new resolution of the endpoint name: only the sets change.
    std::map<std::string, std::vector<nft::Rule>> none;
    CommitOk(nft::ReplaceChainsBatch(none, EndpointSets({SocketAddr{Ip("203.0.113.22"), 51820}})));
    auto after = nft::ReadTable(*sock_, nft::Family::kInet, nft::kQnetTableName);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->FindSet(kEndpointSet4)->elements,
              EndpointSets({SocketAddr{Ip("203.0.113.22"), 51820}})[0].elements);
    EXPECT_TRUE(after->FindSet(kEndpointSet6)->elements.empty());
    EXPECT_EQ(after->FindChain("vpn-forward")->rules.size(),
              state->FindChain("vpn-forward")->rules.size());
  }
}

}  // namespace
}  // namespace qnet::vpn
