// rtnetlink against the real kernel, only inside namespaces the test creates.
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "netns_fixture.h"
#include "qnet/netlink/rtnl.h"
#include "qnet/netlink/sysctl.h"

namespace qnet::testing {
namespace {

using netlink::AddrOptions;
using netlink::LinkInfo;
using netlink::Mac;
using netlink::Route;
using netlink::Scope;
using netlink::Socket;

IpPrefix Prefix(std::string_view s) { return *IpPrefix::Parse(s); }
IpAddr Ip(std::string_view s) { return *IpAddr::Parse(s); }

std::set<std::string> LinkNames(Socket& sock) {
  auto links = netlink::ListLinks(sock);
  EXPECT_TRUE(links.has_value()) << links.error().message();
  std::set<std::string> names;
  if (links)
    for (const LinkInfo& l : *links) names.insert(l.name);
  return names;
}

#define ASSERT_OK(expr)                                            \
  do {                                                             \
    const auto& qnet_s_ = (expr);                                  \
    ASSERT_TRUE(qnet_s_.has_value()) << qnet_s_.error().message(); \
  } while (0)

// Brings up lo and a /32 point-to-point link the Qubes way: address /32, a
// link-scope /32 route to the other side.
void ConfigureEnd(Socket& sock, const char* ifname, const char* local, const char* peer) {
  ASSERT_OK(netlink::SetLinkUp(sock, "lo", true));
  ASSERT_OK(netlink::AddAddress(sock, ifname, Prefix(fmt::format("{}/32", local))));
  ASSERT_OK(netlink::SetLinkUp(sock, ifname, true));
  ASSERT_OK(netlink::AddRoute(
      sock,
      Route{.dst = Prefix(fmt::format("{}/32", peer)), .dev = ifname, .scope = Scope::kLink}));
}

// Sends one datagram from A (10.99.0.1) to B (10.99.0.2) and returns what B
// received and from where; retries while ARP resolves.
std::optional<std::pair<std::string, std::string>> UdpAtoB(int ns_a, int ns_b) {
  auto rx = UdpSocketIn(ns_b, "10.99.0.2", 0);
  auto tx = UdpSocketIn(ns_a, "10.99.0.1", 0);
  if (!rx || !tx) {
    ADD_FAILURE() << (!rx ? rx.error().message() : tx.error().message());
    return std::nullopt;
  }
  uint16_t port = BoundPort(rx->get());
  for (int attempt = 0; attempt < 6; ++attempt) {
    Status sent = SendUdp(tx->get(), "10.99.0.2", port, "hello from A");
    if (!sent) ADD_FAILURE() << sent.error().message();
    char buf[64];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(rx->get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n > 0) {
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &from.sin_addr, text, sizeof text);
      return std::make_pair(std::string(buf, static_cast<size_t>(n)), std::string(text));
    }
  }
  return std::nullopt;
}

class RtnlTest : public TwoNetnsTest {};

TEST_F(RtnlTest, Veth_PeerCreatedInOtherNamespace_RootGainsNothing_UdpFlows) {
  std::set<std::string> root_before = LinkNames(Root());
  ASSERT_OK(
      netlink::CreateVeth(A(), {.name = "qt-a", .peer_name = "qt-b", .peer_netns_fd = b_.fd()}));
  EXPECT_EQ(LinkNames(Root()), root_before) << "nothing may appear in the root namespace";

  auto end_a = netlink::GetLink(A(), "qt-a");
  ASSERT_OK(end_a);
  EXPECT_EQ(end_a->kind, "veth");
  EXPECT_FALSE(end_a->up) << "created down";
  auto end_b = netlink::GetLink(B(), "qt-b");
  ASSERT_OK(end_b);
  EXPECT_FALSE(end_b->up);
  EXPECT_EQ(netlink::GetLink(A(), "qt-b").error().code(), Errc::kNotFound);
  EXPECT_EQ(*netlink::LinkIndex(A(), "qt-a"), end_a->index);

  ConfigureEnd(A(), "qt-a", "10.99.0.1", "10.99.0.2");
  ConfigureEnd(B(), "qt-b", "10.99.0.2", "10.99.0.1");
  // Re-applying the same state is a no-op, not an error.
  ASSERT_OK(netlink::AddAddress(A(), "qt-a", Prefix("10.99.0.1/32")));
  ASSERT_OK(netlink::AddRoute(
      A(), Route{.dst = Prefix("10.99.0.2/32"), .dev = "qt-a", .scope = Scope::kLink}));
  EXPECT_TRUE(netlink::GetLink(A(), "qt-a")->up);

  auto got = UdpAtoB(a_.fd(), b_.fd());
  ASSERT_TRUE(got.has_value()) << "no datagram reached B";
  EXPECT_EQ(got->first, "hello from A");
  EXPECT_EQ(got->second, "10.99.0.1");
  EXPECT_EQ(LinkNames(Root()), root_before);

  // Deleting one end removes the pair from both namespaces.
  ASSERT_OK(netlink::DeleteLink(A(), "qt-a"));
  EXPECT_EQ(netlink::GetLink(B(), "qt-b").error().code(), Errc::kNotFound);
}

TEST_F(RtnlTest, AddressesAndRoutes_ListedBackAsApplied) {
  ASSERT_OK(netlink::CreateVeth(A(), {.name = "qt-a",
                                      .peer_name = "qt-b",
                                      .peer_netns_fd = b_.fd(),
                                      .mac = *Mac::Parse("fe:ff:ff:ff:ff:ff"),
                                      .peer_mac = *Mac::Parse("00:16:3e:5e:6c:00"),
                                      .mtu = 1400}));
  auto a = netlink::GetLink(A(), "qt-a");
  ASSERT_OK(a);
  EXPECT_EQ(a->mac, Mac::Parse("fe:ff:ff:ff:ff:ff").value());
  EXPECT_EQ(a->mtu, 1400u);
  EXPECT_EQ(netlink::GetLink(B(), "qt-b")->mac, Mac::Parse("00:16:3e:5e:6c:00").value());

  ASSERT_OK(netlink::SetLinkUp(A(), "qt-a", true));
  ASSERT_OK(netlink::AddAddress(A(), "qt-a", Prefix("10.99.0.1/32")));
  ASSERT_OK(netlink::AddAddress(A(), "qt-a", Prefix("fd09:24ef:4179::a89:1/128"),
                                AddrOptions{.nodad = true}));
  // Qubes client style: default route via a gateway that is not in any
  // subnet of the link, hence onlink.
  ASSERT_OK(netlink::AddRoute(
      A(),
      Route{
          .dst = Prefix("0.0.0.0/0"), .gateway = Ip("10.99.0.2"), .dev = "qt-a", .onlink = true}));
  ASSERT_OK(netlink::AddRoute(
      A(),
      Route{
          .dst = Prefix("0.0.0.0/0"), .gateway = Ip("10.99.0.2"), .dev = "qt-a", .onlink = true}));

  auto addrs = netlink::ListAddresses(A(), "qt-a");
  ASSERT_OK(addrs);
  std::set<std::string> got;
  for (const auto& ad : *addrs) {
    EXPECT_EQ(ad.ifindex, a->index);
    got.insert(ad.prefix.ToString());
    if (ad.prefix.addr().is_v6() && ad.prefix.len() == 128) {
      EXPECT_TRUE(ad.flags & IFA_F_NODAD);
    }
  }
  EXPECT_TRUE(got.count("10.99.0.1/32"));
  EXPECT_TRUE(got.count("fd09:24ef:4179::a89:1/128"));

  auto routes = netlink::ListRoutes(A(), IpAddr::Family::kV4);
  ASSERT_OK(routes);
  auto def = std::find_if(routes->begin(), routes->end(), [](const netlink::RouteInfo& r) {
    return r.dst.len() == 0 && r.table == RT_TABLE_MAIN;
  });
  ASSERT_NE(def, routes->end());
  EXPECT_EQ(def->gateway, Ip("10.99.0.2"));
  EXPECT_EQ(def->oif, a->index);
  EXPECT_TRUE(def->onlink);
  EXPECT_EQ(std::count_if(routes->begin(), routes->end(),
                          [](const netlink::RouteInfo& r) {
                            return r.dst.len() == 0 && r.table == RT_TABLE_MAIN;
                          }),
            1)
      << "NLM_F_REPLACE: re-adding replaces";

  ASSERT_OK(netlink::DeleteRoute(A(), Route{.dst = Prefix("0.0.0.0/0")}));
  EXPECT_EQ(netlink::DeleteRoute(A(), Route{.dst = Prefix("0.0.0.0/0")}).error().code(),
            Errc::kNotFound);
  ASSERT_OK(netlink::DeleteAddress(A(), "qt-a", Prefix("10.99.0.1/32")));
  EXPECT_EQ(netlink::DeleteAddress(A(), "qt-a", Prefix("10.99.0.1/32")).error().code(),
            Errc::kNotFound);
}

TEST_F(RtnlTest, Errors_NameTheRequestAndTheObject) {
  ASSERT_OK(
      netlink::CreateVeth(A(), {.name = "vif12.0", .peer_name = "eth0", .peer_netns_fd = b_.fd()}));
  Status again =
      netlink::CreateVeth(A(), {.name = "vif12.0", .peer_name = "eth1", .peer_netns_fd = b_.fd()});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(again.error().sys_errno(), EEXIST);
  EXPECT_EQ(again.error().message().rfind("RTM_NEWLINK veth vif12.0: File exists", 0), 0u)
      << again.error().message();
  EXPECT_EQ(netlink::GetLink(B(), "eth1").error().code(), Errc::kNotFound)
      << "a failed create leaves nothing behind";

  auto missing = netlink::GetLink(A(), "nope0");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_EQ(missing.error().message(), "RTM_GETLINK nope0: No such device");
  EXPECT_EQ(netlink::DeleteLink(A(), "nope0").error().code(), Errc::kNotFound);
  EXPECT_EQ(netlink::SetLinkUp(A(), "nope0", true).error().code(), Errc::kNotFound);
  Status addr = netlink::AddAddress(A(), "nope0", Prefix("10.99.0.1/32"));
  ASSERT_FALSE(addr.ok());
  EXPECT_NE(addr.error().message().find("RTM_NEWADDR 10.99.0.1/32 dev nope0"), std::string::npos);
  EXPECT_EQ(netlink::CreateDummy(A(), "way-too-long-name").error().code(), Errc::kInvalidArgument);
}

TEST_F(RtnlTest, Bridge_EnslaveAndRelease) {
  ASSERT_OK(netlink::CreateBridge(A(), "qt-br0"));
  ASSERT_OK(netlink::CreateVeth(A(), {.name = "qt-d0", .peer_name = "qt-d1"}));
  auto br = netlink::GetLink(A(), "qt-br0");
  ASSERT_OK(br);
  EXPECT_EQ(br->kind, "bridge");
  ASSERT_OK(netlink::SetMaster(A(), "qt-d0", "qt-br0"));
  auto d = netlink::GetLink(A(), "qt-d0");
  ASSERT_OK(d);
  EXPECT_EQ(d->master, br->index);
  ASSERT_OK(netlink::SetMtu(A(), "qt-d0", 1280));
  EXPECT_EQ(netlink::GetLink(A(), "qt-d0")->mtu, 1280u);
  ASSERT_OK(netlink::SetMaster(A(), "qt-d0", ""));
  EXPECT_EQ(netlink::GetLink(A(), "qt-d0")->master, 0);
  EXPECT_EQ(netlink::SetMaster(A(), "qt-d0", "no-such-br").error().code(), Errc::kNotFound);
  EXPECT_EQ(netlink::CreateBridge(A(), "qt-br0").error().code(), Errc::kAlreadyExists);
}

// Kernels built without CONFIG_DUMMY (like this CI's) refuse the kind; the
// error must then say so precisely.
TEST_F(RtnlTest, Dummy_CreatedOrRefusedWithKernelReason) {
  Status s = netlink::CreateDummy(A(), "qt-d0");
  if (s.ok()) {
    auto d = netlink::GetLink(A(), "qt-d0");
    ASSERT_OK(d);
    EXPECT_EQ(d->kind, "dummy");
    EXPECT_FALSE(d->up);
  } else {
    EXPECT_EQ(s.error().sys_errno(), EOPNOTSUPP);
    EXPECT_EQ(s.error().message(),
              "RTM_NEWLINK dummy qt-d0: Operation not supported (Unknown device type)");
  }
}

TEST_F(RtnlTest, Neighbours_PermanentAndProxyEntriesAreIdempotent) {
  ASSERT_OK(
      netlink::CreateVeth(A(), {.name = "qt-a", .peer_name = "qt-b", .peer_netns_fd = b_.fd()}));
  Mac gw = *Mac::Parse("fe:ff:ff:ff:ff:ff");
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK(netlink::AddNeighbour(A(), "qt-a", Ip("10.99.0.2"), gw, true));
    ASSERT_OK(netlink::AddProxyNeighbour(A(), "qt-a", Ip("10.99.0.7")));
    ASSERT_OK(netlink::AddProxyNeighbour(A(), "qt-a", Ip("fd09:24ef:4179::a89:7")));
  }
  int index = *netlink::LinkIndex(A(), "qt-a");
  auto neigh = netlink::ListNeighbours(A());
  ASSERT_OK(neigh);
  auto n = std::find_if(neigh->begin(), neigh->end(),
                        [](const netlink::NeighInfo& x) { return x.dst == Ip("10.99.0.2"); });
  ASSERT_NE(n, neigh->end());
  EXPECT_EQ(n->lladdr, gw);
  EXPECT_EQ(n->state, NUD_PERMANENT);
  EXPECT_EQ(n->ifindex, index);

  auto proxies = netlink::ListProxyNeighbours(A());
  ASSERT_OK(proxies);
  std::set<std::string> got;
  for (const auto& p : *proxies) {
    EXPECT_TRUE(p.proxy);
    EXPECT_EQ(p.ifindex, index);
    got.insert(p.dst.ToString());
  }
  EXPECT_EQ(got, (std::set<std::string>{"10.99.0.7", "fd09:24ef:4179::a89:7"}));

  ASSERT_OK(netlink::DeleteNeighbour(A(), "qt-a", Ip("10.99.0.7"), true));
  EXPECT_EQ(netlink::ListProxyNeighbours(A())->size(), 1u);
  EXPECT_EQ(netlink::DeleteNeighbour(A(), "qt-a", Ip("10.99.0.7"), true).error().code(),
            Errc::kNotFound);
}

// Resolved link-layer address of dst in sock's namespace, if any.
std::optional<Mac> ResolvedMac(Socket& sock, const IpAddr& dst) {
  auto neigh = netlink::ListNeighbours(sock);
  if (!neigh) return std::nullopt;
  for (const auto& n : *neigh) {
    if (n.dst == dst && n.lladdr &&
        (n.state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)))
      return n.lladdr;
  }
  return std::nullopt;
}

// The netvm side (A) answers ARP for addresses it routes elsewhere: for .8
// because of a proxy neighbour entry, for .9 only once proxy_arp is on.
TEST_F(RtnlTest, ProxyArp_NetvmAnswersForAddressesItRoutesElsewhere) {
  ASSERT_OK(
      netlink::CreateVeth(A(), {.name = "qt-a", .peer_name = "qt-b", .peer_netns_fd = b_.fd()}));
  ConfigureEnd(A(), "qt-a", "10.99.0.1", "10.99.0.2");
  ConfigureEnd(B(), "qt-b", "10.99.0.2", "10.99.0.1");
  // A routes .8 and .9 to a port-less bridge (a sink inside A).
  ASSERT_OK(netlink::CreateBridge(A(), "qt-sink"));
  ASSERT_OK(netlink::SetLinkUp(A(), "qt-sink", true));
  for (const char* dst : {"10.99.0.8/32", "10.99.0.9/32"}) {
    ASSERT_OK(netlink::AddRoute(A(), Route{.dst = Prefix(dst), .dev = "qt-sink"}));
    ASSERT_OK(
        netlink::AddRoute(B(), Route{.dst = Prefix(dst), .dev = "qt-b", .scope = Scope::kLink}));
  }
  ASSERT_OK(netlink::SetSysctlInNetns(a_.fd(), "net/ipv4/ip_forward", "1"));
  ASSERT_OK(netlink::AddProxyNeighbour(A(), "qt-a", Ip("10.99.0.8")));
  Mac a_mac = *netlink::GetLink(A(), "qt-a")->mac;

  auto tx = UdpSocketIn(b_.fd(), "10.99.0.2", 0);
  ASSERT_OK(tx);
  // Proxies answer after a random delay below proxy_delay (0.8 s by
  // default); 0 makes answers immediate, so a short negative wait is decisive.
  ASSERT_OK(netlink::SetSysctlInNetns(a_.fd(), "net/ipv4/neigh/qt-a/proxy_delay", "0"));
  auto probe = [&](const char* dst, int ms) {
    return WaitFor(
        [&] {
          (void)SendUdp(tx->get(), dst, 9, "probe");
          return ResolvedMac(B(), Ip(dst)) == a_mac;
        },
        std::chrono::milliseconds(ms));
  };
  EXPECT_TRUE(probe("10.99.0.8", 3000)) << "proxy neighbour entry not answered";
  EXPECT_FALSE(probe("10.99.0.9", 1000)) << "answered without proxy_arp (negative control)";
  ASSERT_OK(
      netlink::SetSysctlInNetns(a_.fd(), *netlink::IfSysctlKey("ipv4", "qt-a", "proxy_arp"), "1"));
  EXPECT_TRUE(probe("10.99.0.9", 3000)) << "proxy_arp not answered";
}

// 100 veth pairs into B with addresses, routes and up: all there, none
// left in the root namespace (speed is measured in tests/bench, not here).
TEST_F(RtnlTest, HundredVethPairs_AllConfiguredInTheirNamespaces) {
  constexpr int kPairs = 100;
  for (int i = 0; i < kPairs; ++i) {
    std::string a = fmt::format("vif{}.0", i), b = fmt::format("eth{}", i);
    ASSERT_OK(netlink::CreateVeth(A(), {.name = a, .peer_name = b, .peer_netns_fd = b_.fd()}));
    ASSERT_OK(netlink::AddAddress(A(), a, Prefix("10.98.255.1/32")));
    ASSERT_OK(
        netlink::AddAddress(B(), b, Prefix(fmt::format("10.98.{}.{}/32", i / 200, i % 200 + 2))));
    ASSERT_OK(netlink::SetLinkUp(A(), a, true));
    ASSERT_OK(netlink::SetLinkUp(B(), b, true));
    ASSERT_OK(netlink::AddRoute(
        A(), Route{.dst = Prefix(fmt::format("10.98.{}.{}/32", i / 200, i % 200 + 2)),
                   .dev = a,
                   .scope = Scope::kLink}));
    ASSERT_OK(netlink::AddProxyNeighbour(A(), a, Ip("10.98.255.1")));
  }
  EXPECT_EQ(netlink::ListLinks(B())->size(), static_cast<size_t>(kPairs + 1));
}

}  // namespace
}  // namespace qnet::testing
