#include "links.h"

#include "qnet/netlink/link.h"
#include "qnet/qube/agent_config.h"

namespace qnet::chain {

Status CreateVifLink(const VifLink& link) {
  QNET_ASSIGN_OR_RETURN(netlink::Socket rtnl,
                        netlink::Socket::OpenInNetns(NETLINK_ROUTE, link.netvm_netns_fd));
  // A vif name belongs to one client in the plan, so a link already named so
  // is the end of a qube that was removed (`qnet start`/`restart`): the
  // kernel frees a dead namespace, and the veth with it, asynchronously.
  if (Status s = netlink::DeleteLink(rtnl, link.vif); !s && s.error().code() != Errc::kNotFound)
    return s;
  QNET_ASSIGN_OR_RETURN(netlink::Mac vif_mac, netlink::Mac::Parse(qube::kVifMac));
  netlink::VethSpec spec{.name = link.vif,
                         .peer_name = link.client_ifname,
                         .peer_netns_fd = link.client_netns_fd,
                         .mac = vif_mac};
  return netlink::CreateVeth(rtnl, spec);
}

Status SetUpInNetns(int netns_fd, const std::string& ifname) {
  QNET_ASSIGN_OR_RETURN(netlink::Socket rtnl,
                        netlink::Socket::OpenInNetns(NETLINK_ROUTE, netns_fd));
  return netlink::SetLinkUp(rtnl, ifname, true);
}

}  // namespace qnet::chain
