#include "net_setup.h"

#include <fcntl.h>
#include <linux/if_addr.h>
#include <net/if.h>

#include "init.h"
#include "qnet/base/fd.h"
#include "qnet/netlink/link.h"
#include "qnet/netlink/route.h"
#include "qnet/netlink/sysctl.h"

namespace qnet::agent {
namespace {

// A router solicits a neighbour from the packet's source address when that
// is its own on the link, else from its link-local address, and sends no
// solicitation at all while that address is in DAD: for about 2 s after a
// link came up, IPv6 forwarded toward a client (replies, rejects) stalled.
// Every address on qnet's links is qnet's own, so the link-local skips DAD
// like the others: one made later is made without it, one in DAD is
// replaced by the same address, usable at once.
Status LinkLocalWithoutDad(netlink::Socket& rtnl, const std::string& ifname) {
  QNET_TRY(netlink::SetIfSysctl("ipv6", ifname, "accept_dad", "0"));
  QNET_ASSIGN_OR_RETURN(std::vector<netlink::AddrInfo> addrs, netlink::ListAddresses(rtnl, ifname));
  for (const netlink::AddrInfo& a : addrs) {
    if (!a.prefix.addr().is_v6() || a.scope != netlink::Scope::kLink ||
        (a.flags & IFA_F_TENTATIVE) == 0) {
      continue;
    }
    QNET_TRY(netlink::DeleteAddress(rtnl, ifname, a.prefix));
    QNET_TRY(netlink::AddAddress(rtnl, ifname, a.prefix,
                                 {.nodad = true, .scope = netlink::Scope::kLink}));
  }
  return OkStatus();
}

Status SetUpUplink(netlink::Socket& rtnl, const qube::AgentConfig& c) {
  const qube::Uplink& u = *c.uplink;
  QNET_TRY(netlink::AddAddress(rtnl, u.ifname, u.addr4));
  if (u.gateway_mac) {
    // A Qubes client: /32 address, the gateway pinned on eth0.
    QNET_ASSIGN_OR_RETURN(netlink::Mac mac, netlink::Mac::Parse(*u.gateway_mac));
    QNET_TRY(netlink::AddNeighbour(rtnl, u.ifname, u.gateway4, mac, true));
    QNET_TRY(netlink::AddRoute(
        rtnl,
        {.dst = IpPrefix::Host(u.gateway4), .dev = u.ifname, .scope = netlink::Scope::kLink}));
  }
  QNET_TRY(netlink::AddRoute(
      rtnl, {.dst = IpPrefix(IpAddr::V4(0), 0), .gateway = u.gateway4, .dev = u.ifname}));
  if (c.ipv6 && u.addr6 && u.gateway6) {
    QNET_TRY(LinkLocalWithoutDad(rtnl, u.ifname));
    QNET_TRY(netlink::AddAddress(rtnl, u.ifname, *u.addr6, {.nodad = true}));
    if (u.gateway_mac) {
      QNET_ASSIGN_OR_RETURN(netlink::Mac mac, netlink::Mac::Parse(*u.gateway_mac));
      QNET_TRY(netlink::AddNeighbour(rtnl, u.ifname, *u.gateway6, mac, true));
      QNET_TRY(netlink::AddRoute(
          rtnl,
          {.dst = IpPrefix::Host(*u.gateway6), .dev = u.ifname, .scope = netlink::Scope::kLink}));
    }
    std::array<uint8_t, 16> zero{};
    QNET_TRY(netlink::AddRoute(
        rtnl, {.dst = IpPrefix(IpAddr::V6(zero), 0), .gateway = *u.gateway6, .dev = u.ifname}));
  }
  return OkStatus();
}

Status SetUpClient(netlink::Socket& rtnl, const qube::AgentConfig& c, const qube::Client& cl) {
  QNET_TRY(netlink::SetIfSysctl("ipv4", cl.vif, "proxy_arp", "1"));
  QNET_TRY(netlink::AddAddress(rtnl, cl.vif, IpPrefix::Host(c.addr4)));
  QNET_TRY(netlink::AddRoute(rtnl, {.dst = IpPrefix::Host(cl.addr4),
                                    .dev = cl.vif,
                                    .scope = netlink::Scope::kLink,
                                    .prefsrc = c.addr4}));
  if (c.ipv6 && cl.addr6 && c.addr6) {
    QNET_TRY(LinkLocalWithoutDad(rtnl, cl.vif));
    QNET_TRY(netlink::SetIfSysctl("ipv6", cl.vif, "proxy_ndp", "1"));
    QNET_TRY(netlink::AddAddress(rtnl, cl.vif, IpPrefix::Host(*c.addr6), {.nodad = true}));
    QNET_TRY(netlink::AddRoute(
        rtnl, {.dst = IpPrefix::Host(*cl.addr6), .dev = cl.vif, .scope = netlink::Scope::kLink}));
    QNET_TRY(netlink::AddProxyNeighbour(rtnl, cl.vif, *c.addr6));
  }
  return OkStatus();
}

}  // namespace

Status DisableIpv6Everywhere() {
  QNET_TRY(netlink::SetSysctl("net/ipv6/conf/default/disable_ipv6", "1"));
  QNET_TRY(netlink::SetSysctl("net/ipv6/conf/all/disable_ipv6", "1"));
  return OkStatus();
}

Status ApplyNetworkConfig(netlink::Socket& rtnl, const qube::AgentConfig& c, bool forward) {
  if (c.uplink) {
    if (Status s = SetUpUplink(rtnl, c); !s) return Fail(s.error().Wrap("uplink"));
  }
  if (forward) {
    QNET_TRY(netlink::SetSysctl("net/ipv4/ip_forward", "1"));
    if (c.ipv6) QNET_TRY(netlink::SetSysctl("net/ipv6/conf/all/forwarding", "1"));
  }
  for (const qube::Client& cl : c.clients) {
    // A client that is not running has no vif (its rules are in place all
    // the same); qnetd configures this qube again when the client starts.
    if (::if_nametoindex(cl.vif.c_str()) == 0) continue;
    if (Status s = SetUpClient(rtnl, c, cl); !s)
      return Fail(s.error().Wrap(fmt::format("client {} ({})", cl.name, cl.vif)));
  }
  return WriteResolvConf(c.nameservers);
}

Status WriteResolvConf(const std::vector<IpAddr>& nameservers) {
  std::string text = "# written by qnet-agent\n";
  for (const IpAddr& a : nameservers) text += fmt::format("nameserver {}\n", a);
  // Rewrite in place: /etc/resolv.conf is bound to this very inode.
  QNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenFd(kQubeResolvConf, O_WRONLY | O_TRUNC | O_CREAT, 0644));
  return WriteAll(fd.get(), text);
}

}  // namespace qnet::agent
