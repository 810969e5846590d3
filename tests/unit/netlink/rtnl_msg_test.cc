// Builds each rtnetlink request, then reads it back with libmnl and with our
// own parsers (a request and the kernel's notification share the layout).
#include "qnet/netlink/rtnl_msg.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <cstring>
#include <map>

namespace qnet::netlink {
namespace {

using AttrMap = std::map<uint16_t, const nlattr*>;

int Collect(const nlattr* attr, void* data) {
  (*static_cast<AttrMap*>(data))[mnl_attr_get_type(attr)] = attr;
  return MNL_CB_OK;
}

AttrMap Attrs(const nlmsghdr* nlh, size_t header_len) {
  AttrMap m;
  mnl_attr_parse(nlh, static_cast<unsigned>(header_len), Collect, &m);
  return m;
}

AttrMap Nested(const nlattr* nest) {
  AttrMap m;
  mnl_attr_parse_nested(nest, Collect, &m);
  return m;
}

std::string Str(const nlattr* a) { return mnl_attr_get_str(a); }

IpAddr Ip(std::string_view s) { return *IpAddr::Parse(s); }
IpPrefix Prefix(std::string_view s) { return *IpPrefix::Parse(s); }

TEST(RtnlMsg, NewVethPutsPeerWithNetnsFdInsideVethInfoPeer) {
  VethSpec spec{.name = "vif12.0",
                .peer_name = "eth0",
                .peer_netns_fd = 7,
                .mac = *Mac::Parse("fe:ff:ff:ff:ff:ff"),
                .peer_mac = *Mac::Parse("00:16:3e:5e:6c:00")};
  auto req = BuildNewVeth(spec);
  ASSERT_TRUE(req.has_value()) << req.error().message();
  const nlmsghdr* nlh = req->header();
  EXPECT_EQ(nlh->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  EXPECT_EQ(ifm->ifi_flags & IFF_UP, 0u) << "created down";

  AttrMap top = Attrs(nlh, sizeof(ifinfomsg));
  ASSERT_TRUE(top.count(IFLA_IFNAME));
  EXPECT_EQ(Str(top[IFLA_IFNAME]), "vif12.0");
  ASSERT_EQ(mnl_attr_get_payload_len(top[IFLA_ADDRESS]), 6u);
  EXPECT_EQ(std::memcmp(mnl_attr_get_payload(top[IFLA_ADDRESS]), spec.mac->data(), 6), 0);
  EXPECT_FALSE(top.count(IFLA_NET_NS_FD)) << "only the peer moves";

  AttrMap info = Nested(top[IFLA_LINKINFO]);
  EXPECT_EQ(Str(info[IFLA_INFO_KIND]), "veth");
  AttrMap data = Nested(info[IFLA_INFO_DATA]);
  ASSERT_TRUE(data.count(VETH_INFO_PEER));
  // VETH_INFO_PEER holds an ifinfomsg followed by attributes.
  const nlattr* peer = data[VETH_INFO_PEER];
  ASSERT_GE(mnl_attr_get_payload_len(peer), sizeof(ifinfomsg));
  AttrMap p;
  const nlattr* a;
  const char* start = static_cast<const char*>(mnl_attr_get_payload(peer)) + sizeof(ifinfomsg);
  int len = static_cast<int>(mnl_attr_get_payload_len(peer) - sizeof(ifinfomsg));
  for (a = reinterpret_cast<const nlattr*>(start); mnl_attr_ok(a, len); a = mnl_attr_next(a))
    p[mnl_attr_get_type(a)] = a, len -= static_cast<int>(MNL_ALIGN(a->nla_len));
  EXPECT_EQ(Str(p[IFLA_IFNAME]), "eth0");
  ASSERT_TRUE(p.count(IFLA_NET_NS_FD));
  EXPECT_EQ(mnl_attr_get_u32(p[IFLA_NET_NS_FD]), 7u);
  EXPECT_EQ(std::memcmp(mnl_attr_get_payload(p[IFLA_ADDRESS]), spec.peer_mac->data(), 6), 0);

  auto parsed = ParseLink(nlh);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->name, "vif12.0");
  EXPECT_EQ(parsed->kind, "veth");
  EXPECT_EQ(parsed->mac, spec.mac);
  EXPECT_FALSE(parsed->up);
}

TEST(RtnlMsg, NewVethInSameNamespaceHasNoNetnsFd) {
  auto req = BuildNewVeth({.name = "a", .peer_name = "b"});
  ASSERT_TRUE(req.has_value());
  const nlmsghdr* nlh = req->header();
  // Scan the whole message: no IFLA_NET_NS_FD anywhere in the peer.
  AttrMap info = Nested(Attrs(nlh, sizeof(ifinfomsg))[IFLA_LINKINFO]);
  const nlattr* peer = Nested(info[IFLA_INFO_DATA])[VETH_INFO_PEER];
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(mnl_attr_get_payload_len(peer), sizeof(ifinfomsg) + MNL_ALIGN(sizeof(nlattr) + 2))
      << "ifinfomsg + IFLA_IFNAME only";
}

TEST(RtnlMsg, RejectsBadNamesAndMacsBeforeSending) {
  EXPECT_EQ(BuildNewVeth({.name = "", .peer_name = "b"}).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(BuildNewVeth({.name = "a", .peer_name = "sixteen-chars-xx"}).error().code(),
            Errc::kInvalidArgument);
  EXPECT_FALSE(BuildNewVeth({.name = "a/b", .peer_name = "b"}).has_value());
  EXPECT_FALSE(BuildNewVeth({.name = "a:1", .peer_name = "b"}).has_value());
  EXPECT_FALSE(BuildNewVeth({.name = "a", .peer_name = ".."}).has_value());
  EXPECT_FALSE(
      BuildNewVeth({.name = "a", .peer_name = "b", .mac = *Mac::Parse("01:00:5e:00:00:01")})
          .has_value());
  EXPECT_TRUE(ValidateIfName("fifteen-chars-x").ok());
  auto err = BuildNewLink("bridge", "has space");
  ASSERT_FALSE(err.has_value());
  EXPECT_NE(err.error().message().find("'has space'"), std::string::npos);
}

TEST(RtnlMsg, NewBridgeCarriesKind) {
  auto req = BuildNewLink("bridge", "br0");
  ASSERT_TRUE(req.has_value());
  auto parsed = ParseLink(req->header());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->name, "br0");
  EXPECT_EQ(parsed->kind, "bridge");
  EXPECT_TRUE(req->header()->nlmsg_flags & NLM_F_EXCL);
}

TEST(RtnlMsg, SetLinkAddressesTheLinkByNameAndChangesOnlyWhatIsAsked) {
  auto up = BuildSetLink("vif3.0", {.up = true});
  ASSERT_TRUE(up.has_value());
  const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(up->header()));
  EXPECT_EQ(ifm->ifi_index, 0);
  EXPECT_EQ(ifm->ifi_change, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(ifm->ifi_flags, static_cast<unsigned>(IFF_UP));
  AttrMap a = Attrs(up->header(), sizeof(ifinfomsg));
  EXPECT_EQ(Str(a[IFLA_IFNAME]), "vif3.0");
  EXPECT_FALSE(a.count(IFLA_MASTER));

  auto down = BuildSetLink("vif3.0", {.up = false});
  ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(down->header()));
  EXPECT_EQ(ifm->ifi_change, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(ifm->ifi_flags, 0u);

  auto master = BuildSetLink("vif3.0", {.master = 9, .mtu = 1400});
  ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(master->header()));
  EXPECT_EQ(ifm->ifi_change, 0u);
  a = Attrs(master->header(), sizeof(ifinfomsg));
  EXPECT_EQ(mnl_attr_get_u32(a[IFLA_MASTER]), 9u);
  EXPECT_EQ(mnl_attr_get_u32(a[IFLA_MTU]), 1400u);
}

TEST(RtnlMsg, AddressRoundTripsV4AndV6WithNodadAndPeer) {
  auto v4 = BuildAddress(RTM_NEWADDR, 5, Prefix("10.137.0.5/32"), {.scope = Scope::kLink});
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
  auto a = ParseAddress(v4->header());
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->ifindex, 5);
  EXPECT_EQ(a->prefix, Prefix("10.137.0.5/32"));
  EXPECT_FALSE(a->peer.has_value());
  EXPECT_EQ(a->scope, Scope::kLink);

  auto v6 = BuildAddress(RTM_NEWADDR, 6, Prefix("fd09:24ef:4179::a89:5/128"),
                         {.nodad = true, .peer = Ip("fd09:24ef:4179::a89:1")});
  ASSERT_TRUE(v6.has_value());
  a = ParseAddress(v6->header());
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->prefix, Prefix("fd09:24ef:4179::a89:5/128"));
  EXPECT_EQ(a->peer, Ip("fd09:24ef:4179::a89:1"));
  EXPECT_TRUE(a->flags & IFA_F_NODAD);
  AttrMap attrs = Attrs(v6->header(), sizeof(ifaddrmsg));
  EXPECT_EQ(mnl_attr_get_u32(attrs[IFA_FLAGS]), static_cast<uint32_t>(IFA_F_NODAD));
}

TEST(RtnlMsg, AddressRejectsMixedFamiliesAndBadIndex) {
  EXPECT_FALSE(
      BuildAddress(RTM_NEWADDR, 5, Prefix("10.0.0.1/32"), {.peer = Ip("fd00::1")}).has_value());
  EXPECT_FALSE(BuildAddress(RTM_NEWADDR, 0, Prefix("10.0.0.1/32"), {}).has_value());
  EXPECT_FALSE(BuildAddress(RTM_NEWADDR, 1, IpPrefix(Ip("10.0.0.1"), 33), {}).has_value());
}

TEST(RtnlMsg, HostRouteOnlinkRoundTrips) {
  Route r{.dst = Prefix("10.137.0.12/32"), .scope = Scope::kLink};
  auto req = BuildRoute(RTM_NEWROUTE, r, 4);
  ASSERT_TRUE(req.has_value()) << req.error().message();
  auto info = ParseRoute(req->header());
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_EQ(info->dst, Prefix("10.137.0.12/32"));
  EXPECT_EQ(info->oif, 4);
  EXPECT_EQ(info->scope, Scope::kLink);
  EXPECT_EQ(info->table, static_cast<uint32_t>(RT_TABLE_MAIN));
  EXPECT_EQ(info->type, RTN_UNICAST);
  EXPECT_FALSE(info->gateway.has_value());
}

TEST(RtnlMsg, DefaultRouteViaGatewayOnlinkHasNoDst) {
  Route r{.dst = Prefix("0.0.0.0/0"), .gateway = Ip("10.138.0.1"), .onlink = true};
  auto req = BuildRoute(RTM_NEWROUTE, r, 2);
  ASSERT_TRUE(req.has_value());
  EXPECT_FALSE(Attrs(req->header(), sizeof(rtmsg)).count(RTA_DST));
  auto info = ParseRoute(req->header());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->dst, Prefix("0.0.0.0/0"));
  EXPECT_EQ(info->gateway, Ip("10.138.0.1"));
  EXPECT_TRUE(info->onlink);

  auto v6 = BuildRoute(RTM_NEWROUTE, {.dst = Prefix("::/0"), .gateway = Ip("fe80::1")}, 2);
  ASSERT_TRUE(v6.has_value());
  info = ParseRoute(v6->header());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->dst, Prefix("::/0"));
}

TEST(RtnlMsg, RouteRejectsHostBitsAndMixedFamilies) {
  auto bits = BuildRoute(RTM_NEWROUTE, {.dst = Prefix("10.0.0.5/24")}, 1);
  ASSERT_FALSE(bits.has_value());
  EXPECT_NE(bits.error().message().find("10.0.0.0/24"), std::string::npos);
  EXPECT_FALSE(BuildRoute(RTM_NEWROUTE, {.dst = Prefix("10.0.0.0/24"), .gateway = Ip("fd00::1")}, 1)
                   .has_value());
}

TEST(RtnlMsg, DeleteRouteMatchesAnyScopeAndProtocol) {
  auto req = BuildRoute(RTM_DELROUTE, {.dst = Prefix("10.0.0.0/24")}, 0);
  ASSERT_TRUE(req.has_value());
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(req->header()));
  EXPECT_EQ(rtm->rtm_scope, RT_SCOPE_NOWHERE);
  EXPECT_EQ(rtm->rtm_protocol, RTPROT_UNSPEC);
  EXPECT_EQ(req->header()->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
}

TEST(RtnlMsg, NeighbourAndProxyNeighbour) {
  Mac mac = *Mac::Parse("fe:ff:ff:ff:ff:ff");
  auto req = BuildNeighbour(RTM_NEWNEIGH, 3, Ip("10.137.0.1"), mac, NUD_PERMANENT, false);
  ASSERT_TRUE(req.has_value());
  auto n = ParseNeighbour(req->header());
  ASSERT_TRUE(n.has_value()) << n.error().message();
  EXPECT_EQ(n->ifindex, 3);
  EXPECT_EQ(n->dst, Ip("10.137.0.1"));
  EXPECT_EQ(n->lladdr, mac);
  EXPECT_EQ(n->state, NUD_PERMANENT);
  EXPECT_FALSE(n->proxy);

  auto proxy = BuildNeighbour(RTM_NEWNEIGH, 3, Ip("fd09::5"), std::nullopt, NUD_PERMANENT, true);
  ASSERT_TRUE(proxy.has_value());
  n = ParseNeighbour(proxy->header());
  ASSERT_TRUE(n.has_value());
  EXPECT_TRUE(n->proxy);
  EXPECT_FALSE(n->lladdr.has_value());
  EXPECT_FALSE(Attrs(proxy->header(), sizeof(ndmsg)).count(NDA_LLADDR));

  EXPECT_FALSE(BuildNeighbour(RTM_NEWNEIGH, 3, Ip("10.0.0.1"), std::nullopt, NUD_PERMANENT, false)
                   .has_value());
}

TEST(RtnlMsg, DumpRequestsAskForTheRightTables) {
  Request links = BuildDumpLinks();
  EXPECT_EQ(links.header()->nlmsg_flags & NLM_F_DUMP, NLM_F_DUMP);
  Request proxy = BuildDumpNeighbours(true);
  EXPECT_EQ(static_cast<const ndmsg*>(mnl_nlmsg_get_payload(proxy.header()))->ndm_flags, NTF_PROXY);
  Request routes = BuildDumpRoutes(IpAddr::Family::kV6);
  EXPECT_EQ(static_cast<const rtmsg*>(mnl_nlmsg_get_payload(routes.header()))->rtm_family,
            AF_INET6);
}

TEST(RtnlMsg, ParsersRejectTruncatedAndForeignMessages) {
  Request req(RTM_NEWLINK, 0);  // no ifinfomsg at all
  auto link = ParseLink(req.header());
  ASSERT_FALSE(link.has_value());
  EXPECT_EQ(link.error().code(), Errc::kProtocol);
  auto addr = BuildAddress(RTM_NEWADDR, 1, Prefix("10.0.0.1/32"), {});
  EXPECT_EQ(ParseLink(addr->header()).error().code(), Errc::kProtocol);
  EXPECT_EQ(ParseRoute(addr->header()).error().code(), Errc::kProtocol);
  // A route with an address attribute of the wrong size.
  auto route = BuildRoute(RTM_NEWROUTE, {.dst = Prefix("10.0.0.0/8")}, 1);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_get_payload(route->header()));
  rtm->rtm_family = AF_INET6;
  EXPECT_EQ(ParseRoute(route->header()).error().code(), Errc::kProtocol);
}

}  // namespace
}  // namespace qnet::netlink
