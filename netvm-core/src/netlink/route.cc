// Address, route and neighbour operations: resolve the interface, build with
// route_msg.cc, send with rtnl_call.cc.
#include "qnet/netlink/route.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "qnet/netlink/link.h"
#include "qnet/netlink/rtnl_msg.h"
#include "rtnl_call.h"

namespace qnet::netlink {
namespace {

using internal::Call;

// Dumps may mix in other families (AF_MCTP addresses, bridge FDB entries...)
// that are not ours to report; every rtnetlink header starts with the family.
bool IsInetMessage(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < mnl_nlmsg_size(1)) return false;
  uint8_t family = *static_cast<const uint8_t*>(mnl_nlmsg_get_payload(nlh));
  return family == AF_INET || family == AF_INET6;
}

// Resolves ifname, prefixing a lookup failure with the operation it was for.
Result<int> IndexFor(Socket& sock, std::string_view ifname, std::string_view what) {
  auto index = LinkIndex(sock, ifname);
  if (!index) return Fail(index.error().Wrap(what));
  return index;
}

std::string AddrWhat(std::string_view op, const IpPrefix& prefix, std::string_view dev) {
  return fmt::format("{} {} dev {}", op, prefix, dev);
}

std::string RouteWhat(std::string_view op, const Route& r) {
  std::string what = fmt::format("{} {}", op, r.dst);
  if (r.gateway) what += fmt::format(" via {}", *r.gateway);
  if (r.dev) what += fmt::format(" dev {}", *r.dev);
  if (r.dev_index > 0) what += fmt::format(" oif {}", r.dev_index);
  return what;
}

Result<int> RouteOif(Socket& sock, const Route& route, const std::string& what) {
  if (route.dev_index > 0) return route.dev_index;
  if (route.dev) return IndexFor(sock, *route.dev, what);
  return 0;
}

Status ChangeRoute(Socket& sock, uint16_t type, const Route& route) {
  std::string what = RouteWhat(type == RTM_NEWROUTE ? "RTM_NEWROUTE" : "RTM_DELROUTE", route);
  QNET_ASSIGN_OR_RETURN(int oif, RouteOif(sock, route, what));
  QNET_ASSIGN_OR_RETURN(Request req, BuildRoute(type, route, oif));
  return Call(sock, req, what);
}

Result<std::vector<NeighInfo>> DumpNeighbours(Socket& sock, bool proxy) {
  Request req = BuildDumpNeighbours(proxy);
  std::vector<NeighInfo> out;
  QNET_TRY(Call(sock, req, proxy ? "RTM_GETNEIGH proxy dump" : "RTM_GETNEIGH dump",
                [&](const nlmsghdr* nlh) -> Status {
                  if (!IsInetMessage(nlh)) return OkStatus();
                  QNET_ASSIGN_OR_RETURN(NeighInfo n, ParseNeighbour(nlh));
                  out.push_back(std::move(n));
                  return OkStatus();
                }));
  return out;
}

}  // namespace

// ---- addresses ----

Status AddAddressByIndex(Socket& sock, int ifindex, const IpPrefix& prefix,
                         const AddrOptions& opts) {
  QNET_ASSIGN_OR_RETURN(Request req, BuildAddress(RTM_NEWADDR, ifindex, prefix, opts));
  return Call(sock, req, AddrWhat("RTM_NEWADDR", prefix, fmt::format("#{}", ifindex)));
}

Status AddAddress(Socket& sock, std::string_view ifname, const IpPrefix& prefix,
                  const AddrOptions& opts) {
  std::string what = AddrWhat("RTM_NEWADDR", prefix, ifname);
  QNET_ASSIGN_OR_RETURN(int index, IndexFor(sock, ifname, what));
  QNET_ASSIGN_OR_RETURN(Request req, BuildAddress(RTM_NEWADDR, index, prefix, opts));
  return Call(sock, req, what);
}

Status DeleteAddress(Socket& sock, std::string_view ifname, const IpPrefix& prefix) {
  std::string what = AddrWhat("RTM_DELADDR", prefix, ifname);
  QNET_ASSIGN_OR_RETURN(int index, IndexFor(sock, ifname, what));
  QNET_ASSIGN_OR_RETURN(Request req, BuildAddress(RTM_DELADDR, index, prefix, {}));
  Status s = Call(sock, req, what);
  if (!s && s.error().sys_errno() == EADDRNOTAVAIL)
    return Fail(Error(Errc::kNotFound, s.error().message(), EADDRNOTAVAIL));
  return s;
}

Result<std::vector<AddrInfo>> ListAddresses(Socket& sock, std::optional<std::string_view> ifname) {
  int only = 0;
  if (ifname) {
    QNET_ASSIGN_OR_RETURN(only, IndexFor(sock, *ifname, "RTM_GETADDR dump"));
  }
  Request req = BuildDumpAddresses();
  std::vector<AddrInfo> out;
  QNET_TRY(Call(sock, req, "RTM_GETADDR dump", [&](const nlmsghdr* nlh) -> Status {
    if (!IsInetMessage(nlh)) return OkStatus();
    QNET_ASSIGN_OR_RETURN(AddrInfo a, ParseAddress(nlh));
    if (only == 0 || a.ifindex == only) out.push_back(std::move(a));
    return OkStatus();
  }));
  return out;
}

// ---- routes ----

Status AddRoute(Socket& sock, const Route& route) { return ChangeRoute(sock, RTM_NEWROUTE, route); }

Status DeleteRoute(Socket& sock, const Route& route) {
  return ChangeRoute(sock, RTM_DELROUTE, route);
}

Result<std::vector<RouteInfo>> ListRoutes(Socket& sock, IpAddr::Family family) {
  Request req = BuildDumpRoutes(family);
  std::vector<RouteInfo> out;
  QNET_TRY(Call(sock, req, "RTM_GETROUTE dump", [&](const nlmsghdr* nlh) -> Status {
    if (!IsInetMessage(nlh)) return OkStatus();
    QNET_ASSIGN_OR_RETURN(RouteInfo r, ParseRoute(nlh));
    out.push_back(std::move(r));
    return OkStatus();
  }));
  return out;
}

// ---- neighbours ----

Status AddNeighbourByIndex(Socket& sock, int ifindex, const IpAddr& addr, const Mac& mac,
                           bool permanent) {
  uint16_t state = permanent ? NUD_PERMANENT : NUD_REACHABLE;
  QNET_ASSIGN_OR_RETURN(Request req,
                        BuildNeighbour(RTM_NEWNEIGH, ifindex, addr, mac, state, false));
  return Call(sock, req, fmt::format("RTM_NEWNEIGH {} lladdr {} dev #{}", addr, mac, ifindex));
}

Status AddNeighbour(Socket& sock, std::string_view ifname, const IpAddr& addr, const Mac& mac,
                    bool permanent) {
  std::string what = fmt::format("RTM_NEWNEIGH {} lladdr {} dev {}", addr, mac, ifname);
  QNET_ASSIGN_OR_RETURN(int index, IndexFor(sock, ifname, what));
  uint16_t state = permanent ? NUD_PERMANENT : NUD_REACHABLE;
  QNET_ASSIGN_OR_RETURN(Request req, BuildNeighbour(RTM_NEWNEIGH, index, addr, mac, state, false));
  return Call(sock, req, what);
}

Status AddProxyNeighbour(Socket& sock, std::string_view ifname, const IpAddr& addr) {
  std::string what = fmt::format("RTM_NEWNEIGH proxy {} dev {}", addr, ifname);
  QNET_ASSIGN_OR_RETURN(int index, IndexFor(sock, ifname, what));
  QNET_ASSIGN_OR_RETURN(
      Request req, BuildNeighbour(RTM_NEWNEIGH, index, addr, std::nullopt, NUD_PERMANENT, true));
  return Call(sock, req, what);
}

Status DeleteNeighbour(Socket& sock, std::string_view ifname, const IpAddr& addr, bool proxy) {
  std::string what = fmt::format("RTM_DELNEIGH {}{} dev {}", proxy ? "proxy " : "", addr, ifname);
  QNET_ASSIGN_OR_RETURN(int index, IndexFor(sock, ifname, what));
  QNET_ASSIGN_OR_RETURN(Request req,
                        BuildNeighbour(RTM_DELNEIGH, index, addr, std::nullopt, 0, proxy));
  return Call(sock, req, what);
}

Result<std::vector<NeighInfo>> ListNeighbours(Socket& sock) { return DumpNeighbours(sock, false); }

Result<std::vector<NeighInfo>> ListProxyNeighbours(Socket& sock) {
  return DumpNeighbours(sock, true);
}

}  // namespace qnet::netlink
