// Pure builders and parsers for RTM_*ADDR, RTM_*ROUTE and RTM_*NEIGH
// messages (see rtnl_msg.h).
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "attr.h"
#include "qnet/netlink/rtnl_msg.h"

namespace qnet::netlink {
namespace {

using internal::AfOf;
using internal::AttrIp;
using internal::AttrTable;
using internal::AttrU32;
using internal::IndexAttrs;
using internal::PutIp;

int MaxLen(const IpAddr& a) { return a.is_v4() ? 32 : 128; }

Status CheckPrefix(const IpPrefix& p, const char* what) {
  if (p.len() < 0 || p.len() > MaxLen(p.addr()))
    return Fail(Errc::kInvalidArgument, fmt::format("{} {}: bad prefix length", what, p));
  return OkStatus();
}

Status SameFamily(const IpAddr& a, const std::optional<IpAddr>& b, const char* what) {
  if (b && b->family() != a.family())
    return Fail(Errc::kInvalidArgument, fmt::format("{} {} and {}: mixed families", what, a, *b));
  return OkStatus();
}

Status CheckIndex(int ifindex, const char* what) {
  if (ifindex <= 0)
    return Fail(Errc::kInvalidArgument, fmt::format("{}: bad interface index {}", what, ifindex));
  return OkStatus();
}

bool IsInet(int family) { return family == AF_INET || family == AF_INET6; }

Status CheckType(const nlmsghdr* nlh, uint16_t want, uint16_t also, const char* name) {
  if (nlh->nlmsg_type != want && nlh->nlmsg_type != also)
    return Fail(Errc::kProtocol,
                fmt::format("netlink message type {}, want {}", nlh->nlmsg_type, name));
  return OkStatus();
}

}  // namespace

// ---- addresses ----

Result<Request> BuildAddress(uint16_t type, int ifindex, const IpPrefix& prefix,
                             const AddrOptions& opts) {
  QNET_TRY(CheckIndex(ifindex, "address"));
  QNET_TRY(CheckPrefix(prefix, "address"));
  QNET_TRY(SameFamily(prefix.addr(), opts.peer, "address"));
  uint16_t flags = type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK : NLM_F_ACK;
  Request req(type, flags);
  nlmsghdr* nlh = req.header();
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = static_cast<uint8_t>(AfOf(prefix.addr().family()));
  ifa->ifa_prefixlen = static_cast<uint8_t>(prefix.len());
  ifa->ifa_scope = static_cast<uint8_t>(opts.scope);
  ifa->ifa_index = static_cast<uint32_t>(ifindex);
  uint32_t ifa_flags = opts.nodad ? IFA_F_NODAD : 0;
  ifa->ifa_flags = static_cast<uint8_t>(ifa_flags);
  PutIp(nlh, IFA_LOCAL, prefix.addr());
  PutIp(nlh, IFA_ADDRESS, opts.peer.value_or(prefix.addr()));
  if (ifa_flags != 0) mnl_attr_put_u32(nlh, IFA_FLAGS, ifa_flags);
  return req;
}

Request BuildDumpAddresses() {
  Request req(RTM_GETADDR, NLM_F_DUMP);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(req.header(), sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_UNSPEC;
  return req;
}

Result<AddrInfo> ParseAddress(const nlmsghdr* nlh) {
  QNET_TRY(CheckType(nlh, RTM_NEWADDR, RTM_DELADDR, "RTM_NEWADDR"));
  QNET_ASSIGN_OR_RETURN(AttrTable tb, IndexAttrs(nlh, sizeof(ifaddrmsg), IFA_MAX));
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
  if (!IsInet(ifa->ifa_family))
    return Fail(Errc::kProtocol, fmt::format("address of family {}", ifa->ifa_family));
  // IPv6 reports only IFA_ADDRESS unless there is a peer; IPv4 both.
  const nlattr* local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
  if (!local) return Fail(Errc::kProtocol, "RTM_NEWADDR without an address");
  AddrInfo info;
  info.ifindex = static_cast<int>(ifa->ifa_index);
  QNET_ASSIGN_OR_RETURN(IpAddr addr, AttrIp(local, ifa->ifa_family, "IFA_LOCAL"));
  info.prefix = IpPrefix(addr, ifa->ifa_prefixlen);
  if (tb[IFA_LOCAL] && tb[IFA_ADDRESS]) {
    QNET_ASSIGN_OR_RETURN(IpAddr peer, AttrIp(tb[IFA_ADDRESS], ifa->ifa_family, "IFA_ADDRESS"));
    if (peer != addr) info.peer = peer;
  }
  info.scope = static_cast<Scope>(ifa->ifa_scope);
  info.flags = ifa->ifa_flags;
  if (tb[IFA_FLAGS]) {
    QNET_ASSIGN_OR_RETURN(info.flags, AttrU32(tb[IFA_FLAGS], "IFA_FLAGS"));
  }
  if (tb[IFA_LABEL]) info.label = internal::AttrString(tb[IFA_LABEL]);
  return info;
}

// ---- routes ----

Result<Request> BuildRoute(uint16_t type, const Route& route, int oif) {
  const IpAddr& dst = route.dst.addr();
  QNET_TRY(CheckPrefix(route.dst, "route"));
  if (route.dst.Network() != route.dst)
    return Fail(Errc::kInvalidArgument, fmt::format("route {}: host bits set (did you mean {}?)",
                                                    route.dst, route.dst.Network()));
  QNET_TRY(SameFamily(dst, route.gateway, "route"));
  QNET_TRY(SameFamily(dst, route.prefsrc, "route"));
  if (oif < 0) return Fail(Errc::kInvalidArgument, fmt::format("route {}: bad oif", route.dst));
  bool add = type == RTM_NEWROUTE;
  Request req(type, add ? NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK : NLM_F_ACK);
  nlmsghdr* nlh = req.header();
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = static_cast<uint8_t>(AfOf(dst.family()));
  rtm->rtm_dst_len = static_cast<uint8_t>(route.dst.len());
  rtm->rtm_table =
      static_cast<uint8_t>(route.table < 256 ? route.table : uint32_t{RT_TABLE_UNSPEC});
  // A delete matches any protocol, scope and type unless told otherwise.
  rtm->rtm_protocol = add ? RTPROT_STATIC : RTPROT_UNSPEC;
  rtm->rtm_scope = add ? static_cast<uint8_t>(route.scope) : uint8_t{RT_SCOPE_NOWHERE};
  rtm->rtm_type = add ? RTN_UNICAST : RTN_UNSPEC;
  if (route.onlink) rtm->rtm_flags |= RTNH_F_ONLINK;
  if (route.dst.len() > 0) PutIp(nlh, RTA_DST, dst);
  if (route.gateway) PutIp(nlh, RTA_GATEWAY, *route.gateway);
  if (oif > 0) mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(oif));
  if (route.prefsrc) PutIp(nlh, RTA_PREFSRC, *route.prefsrc);
  if (route.metric != 0) mnl_attr_put_u32(nlh, RTA_PRIORITY, route.metric);
  mnl_attr_put_u32(nlh, RTA_TABLE, route.table);
  return req;
}

Request BuildDumpRoutes(IpAddr::Family family) {
  Request req(RTM_GETROUTE, NLM_F_DUMP);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(req.header(), sizeof(rtmsg)));
  rtm->rtm_family = static_cast<uint8_t>(AfOf(family));
  return req;
}

Result<RouteInfo> ParseRoute(const nlmsghdr* nlh) {
  QNET_TRY(CheckType(nlh, RTM_NEWROUTE, RTM_DELROUTE, "RTM_NEWROUTE"));
  QNET_ASSIGN_OR_RETURN(AttrTable tb, IndexAttrs(nlh, sizeof(rtmsg), RTA_MAX));
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  int af = rtm->rtm_family;
  if (!IsInet(af)) return Fail(Errc::kProtocol, fmt::format("route of family {}", af));
  RouteInfo info;
  IpAddr dst = af == AF_INET ? IpAddr::V4(0) : IpAddr::V6({});
  if (tb[RTA_DST]) {
    QNET_ASSIGN_OR_RETURN(dst, AttrIp(tb[RTA_DST], af, "RTA_DST"));
  }
  if (rtm->rtm_dst_len > MaxLen(dst))
    return Fail(Errc::kProtocol, fmt::format("route prefix length {}", rtm->rtm_dst_len));
  info.dst = IpPrefix(dst, rtm->rtm_dst_len);
  if (tb[RTA_GATEWAY]) {
    QNET_ASSIGN_OR_RETURN(info.gateway, AttrIp(tb[RTA_GATEWAY], af, "RTA_GATEWAY"));
  }
  if (tb[RTA_PREFSRC]) {
    QNET_ASSIGN_OR_RETURN(info.prefsrc, AttrIp(tb[RTA_PREFSRC], af, "RTA_PREFSRC"));
  }
  if (tb[RTA_OIF]) {
    QNET_ASSIGN_OR_RETURN(uint32_t oif, AttrU32(tb[RTA_OIF], "RTA_OIF"));
    info.oif = static_cast<int>(oif);
  }
  if (tb[RTA_PRIORITY]) {
    QNET_ASSIGN_OR_RETURN(info.metric, AttrU32(tb[RTA_PRIORITY], "RTA_PRIORITY"));
  }
  info.table = rtm->rtm_table;
  if (tb[RTA_TABLE]) {
    QNET_ASSIGN_OR_RETURN(info.table, AttrU32(tb[RTA_TABLE], "RTA_TABLE"));
  }
  info.scope = static_cast<Scope>(rtm->rtm_scope);
  info.onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
  info.type = rtm->rtm_type;
  info.protocol = rtm->rtm_protocol;
  return info;
}

// ---- neighbours ----

Result<Request> BuildNeighbour(uint16_t type, int ifindex, const IpAddr& addr,
                               const std::optional<Mac>& lladdr, uint16_t state, bool proxy) {
  QNET_TRY(CheckIndex(ifindex, "neighbour"));
  if (type == RTM_NEWNEIGH && !proxy && !lladdr)
    return Fail(Errc::kInvalidArgument, fmt::format("neighbour {}: no link-layer address", addr));
  uint16_t flags = type == RTM_NEWNEIGH ? NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK : NLM_F_ACK;
  Request req(type, flags);
  nlmsghdr* nlh = req.header();
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = static_cast<uint8_t>(AfOf(addr.family()));
  ndm->ndm_ifindex = ifindex;
  ndm->ndm_state = state;
  ndm->ndm_flags = proxy ? NTF_PROXY : 0;
  PutIp(nlh, NDA_DST, addr);
  if (lladdr && !proxy) mnl_attr_put(nlh, NDA_LLADDR, Mac::kSize, lladdr->data());
  return req;
}

Request BuildDumpNeighbours(bool proxy) {
  Request req(RTM_GETNEIGH, NLM_F_DUMP);
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(req.header(), sizeof(ndmsg)));
  ndm->ndm_family = AF_UNSPEC;
  // The kernel dumps the proxy table instead when ndm_flags is exactly NTF_PROXY.
  ndm->ndm_flags = proxy ? NTF_PROXY : 0;
  return req;
}

Result<NeighInfo> ParseNeighbour(const nlmsghdr* nlh) {
  QNET_TRY(CheckType(nlh, RTM_NEWNEIGH, RTM_DELNEIGH, "RTM_NEWNEIGH"));
  QNET_ASSIGN_OR_RETURN(AttrTable tb, IndexAttrs(nlh, sizeof(ndmsg), NDA_MAX));
  const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
  if (!IsInet(ndm->ndm_family))
    return Fail(Errc::kProtocol, fmt::format("neighbour of family {}", ndm->ndm_family));
  if (!tb[NDA_DST]) return Fail(Errc::kProtocol, "RTM_NEWNEIGH without NDA_DST");
  NeighInfo info;
  info.ifindex = ndm->ndm_ifindex;
  QNET_ASSIGN_OR_RETURN(info.dst, AttrIp(tb[NDA_DST], ndm->ndm_family, "NDA_DST"));
  if (tb[NDA_LLADDR]) {
    auto mac = Mac::FromBytes(mnl_attr_get_payload(tb[NDA_LLADDR]),
                              mnl_attr_get_payload_len(tb[NDA_LLADDR]));
    if (mac) info.lladdr = *mac;
  }
  info.state = ndm->ndm_state;
  info.flags = ndm->ndm_flags;
  info.proxy = (ndm->ndm_flags & NTF_PROXY) != 0;
  return info;
}

}  // namespace qnet::netlink
