// The kill switch with real packets (contract 2): a client behind a vpn
// qube sends through the tunnel; when the tunnel link is deleted and only
// the uplink route is left, nothing reaches the uplink side, and the drop
// is counted. Four namespaces joined only to each other:
//
//   client (10.137.0.12) -- vif12.0 [vpn qube] wgns0 -- tunnel stand-in
//                                         eth0  -- upstream (198.51.100.1)
//
// Both the tunnel stand-in and the upstream hold 203.0.113.10 and listen
// on UDP port 7, so the test sees which way a packet went. The tunnel is a
// veth here, as the link into wireguard-go's namespace is.
#include <gtest/gtest.h>
#include <unistd.h>

#include "netns_fixture.h"
#include "qnet/netlink/link.h"
#include "qnet/netlink/route.h"
#include "qnet/netlink/sysctl.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/match.h"
#include "qnet/nft/readback.h"
#include "qnet/nft/transaction.h"
#include "qnet/vpn/kill_switch.h"

namespace qnet::vpn {
namespace {

using qnet::testing::SendUdp;
using qnet::testing::UdpSocketIn;

IpPrefix Net(std::string_view s) { return *IpPrefix::Parse(s); }
IpAddr Ip(std::string_view s) { return *IpAddr::Parse(s); }

struct Ns {
  runtime::PinnedNetns ns;
  std::optional<netlink::Socket> rtnl;
};

class KillSwitchPackets : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates network namespaces)";
    for (auto [ns, name] : {std::pair{&client_, "c"}, std::pair{&vpn_, "v"},
                            std::pair{&tunnel_, "t"}, std::pair{&up_, "u"}}) {
      auto p = runtime::PinnedNetns::Create(
          fmt::format("/run/netns/qnettest-{}-ks{}", ::getpid(), name));
      ASSERT_TRUE(p.has_value()) << p.error().message();
      ns->ns = *std::move(p);
      auto s = netlink::Socket::OpenInNetns(NETLINK_ROUTE, ns->ns.fd());
      ASSERT_TRUE(s.has_value()) << s.error().message();
      ns->rtnl.emplace(*std::move(s));
      ASSERT_TRUE(netlink::SetLinkUp(*ns->rtnl, "lo", true).ok());
    }
    Link(client_, "eth0", "10.137.0.12/24", "vif12.0", "10.137.0.1/24");
    Link(tunnel_, "t0", "10.200.0.2/24", "wgns0", "10.200.0.1/24");
    Link(up_, "up0", "198.51.100.1/24", "eth0", "198.51.100.2/24");
    for (Ns* far : {&tunnel_, &up_})
      ASSERT_TRUE(netlink::AddAddress(*far->rtnl, "lo", Net("203.0.113.10/32")).ok());
    Route(client_, {.dst = Net("0.0.0.0/0"), .gateway = Ip("10.137.0.1")});
    // The tunnel is preferred; the uplink route is what is left without it.
    Route(vpn_, {.dst = Net("203.0.113.10/32"), .gateway = Ip("10.200.0.2"), .metric = 100});
    Route(vpn_, {.dst = Net("203.0.113.10/32"), .gateway = Ip("198.51.100.1"), .metric = 200});
    ASSERT_TRUE(netlink::SetSysctlInNetns(vpn_.ns.fd(), "net/ipv4/ip_forward", "1").ok());

    auto nf = netlink::Socket::OpenInNetns(NETLINK_NETFILTER, vpn_.ns.fd());
    ASSERT_TRUE(nf.has_value()) << nf.error().message();
    nf_.emplace(*std::move(nf));
    config_ = *ParseWgQuick(
        "[Interface]\nPrivateKey = AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"
        "Address = 10.64.0.2/32\n[Peer]\n"
        "PublicKey = AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n"
        "Endpoint = 198.51.100.1:51820\nAllowedIPs = 0.0.0.0/0\n",
        "t.conf");
    auto ks = CompileKillSwitch({.config = &config_,
                                 .backend = Backend::kUserspace,
                                 .uplink = "eth0",
                                 .tunnel = "wgns0",
                                 .endpoints = {SocketAddr{Ip("198.51.100.1"), 51820}}});
    ASSERT_TRUE(ks.has_value()) << ks.error().message();
    nft::Batch b;
    for (const nft::CounterObject& c : ks->counters) b.AddCounter(nft::QnetTable(), c);
    for (const nft::Chain& c : ks->chains) chains_[c.name];
    for (const nft::Rule& r : ks->rules) chains_[r.chain].push_back(r);
    // Stand-in for the netvm and firewall capabilities after the guard:
    // they accept what the client's rules allow (here: everything).
    chains_["netvm-forward"] = {nft::Rule{"", nft::Accept(), std::nullopt}};
    b.Append(nft::ReplaceChainsBatch(chains_, ks->sets));
    Commit(nft::LockdownBatch());
    Commit(nft::InstallCapabilitiesBatch({std::string(kVpnCapability), "netvm"}));
    Commit(b);
  }

  void Link(Ns& far, const char* far_name, const char* far_addr, const char* near_name,
            const char* near_addr) {
    Status s = netlink::CreateVeth(
        *vpn_.rtnl, {.name = near_name, .peer_name = far_name, .peer_netns_fd = far.ns.fd()});
    ASSERT_TRUE(s.ok()) << s.error().message();
    ASSERT_TRUE(netlink::AddAddress(*vpn_.rtnl, near_name, Net(near_addr)).ok());
    ASSERT_TRUE(netlink::AddAddress(*far.rtnl, far_name, Net(far_addr)).ok());
    ASSERT_TRUE(netlink::SetLinkUp(*vpn_.rtnl, near_name, true).ok());
    ASSERT_TRUE(netlink::SetLinkUp(*far.rtnl, far_name, true).ok());
  }
  void Route(Ns& ns, const netlink::Route& r) {
    Status s = netlink::AddRoute(*ns.rtnl, r);
    ASSERT_TRUE(s.ok()) << s.error().message();
  }
  void Commit(const nft::Batch& b) {
    Status s = nft::Commit(*nf_, b);
    ASSERT_TRUE(s.ok()) << s.error().message();
  }
  // What arrives at fd within its receive timeout (500 ms), or "".
  static std::string Receive(int fd) {
    char buf[64];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
  // Sends payload to 203.0.113.10:7 until `to` receives it (at most 5 tries).
  static bool SendUntilReceived(int from, int to, std::string_view payload) {
    for (int i = 0; i < 5; ++i) {
      if (!SendUdp(from, "203.0.113.10", 7, payload).ok()) return false;
      if (Receive(to) == payload) return true;
    }
    return false;
  }
  uint64_t DropCount() {
    auto st = nft::ReadTable(*nf_, nft::Family::kInet, nft::kQnetTableName);
    EXPECT_TRUE(st.has_value());
    const nft::CounterState* c = st ? st->FindCounter(kDropForwardCounter) : nullptr;
    return c != nullptr ? c->packets : 0;
  }

  // Sockets and chains go before the namespaces (declared after them).
  Ns client_, vpn_, tunnel_, up_;
  std::optional<netlink::Socket> nf_;
  WgQuickConfig config_;
  std::map<std::string, std::vector<nft::Rule>> chains_;
};

TEST_F(KillSwitchPackets, KillSwitch_DropsForwardedTrafficWhenTunnelDeleted) {
  auto via_tunnel = UdpSocketIn(tunnel_.ns.fd(), "203.0.113.10", 7);
  auto via_uplink = UdpSocketIn(up_.ns.fd(), "203.0.113.10", 7);
  auto sender = UdpSocketIn(client_.ns.fd(), "10.137.0.12", 0);
  ASSERT_TRUE(via_tunnel.has_value() && via_uplink.has_value() && sender.has_value());

  // Through the tunnel while it exists (a few tries: fresh links may drop
  // the very first packet before their carrier is up).
  EXPECT_TRUE(SendUntilReceived(sender->get(), via_tunnel->get(), "tunnel"));
  EXPECT_EQ(Receive(via_uplink->get()), "");

  // The tunnel goes away: the uplink route is all that is left, and nothing
  // takes it.
  ASSERT_TRUE(netlink::DeleteLink(*vpn_.rtnl, "wgns0").ok());
  const uint64_t before = DropCount();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(SendUdp(sender->get(), "203.0.113.10", 7, "leak").ok());
  EXPECT_EQ(Receive(via_uplink->get()), "");
  EXPECT_EQ(DropCount() - before, 3u);

  // Positive control: without the guard the same packets do reach the
  // uplink side, so the capture above would have seen a leak.
  chains_["vpn-forward"].clear();
  Commit(nft::ReplaceChainsBatch({{"vpn-forward", {}}}));
  EXPECT_TRUE(SendUntilReceived(sender->get(), via_uplink->get(), "control"));
}

}  // namespace
}  // namespace qnet::vpn
