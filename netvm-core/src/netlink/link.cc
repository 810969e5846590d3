// Link operations: resolve, build with link_msg.cc, send with rtnl_call.cc.
#include "qnet/netlink/link.h"

#include <linux/rtnetlink.h>

#include "qnet/netlink/rtnl_msg.h"
#include "rtnl_call.h"

namespace qnet::netlink {
namespace {

using internal::Call;

Status CreateSimpleLink(Socket& sock, std::string_view kind, std::string_view name) {
  QNET_ASSIGN_OR_RETURN(Request req, BuildNewLink(kind, name));
  return Call(sock, req, fmt::format("RTM_NEWLINK {} {}", kind, name));
}

Status ChangeLink(Socket& sock, std::string_view ifname, const LinkChange& change,
                  std::string_view what) {
  QNET_ASSIGN_OR_RETURN(Request req, BuildSetLink(ifname, change));
  return Call(sock, req, fmt::format("RTM_SETLINK {} {}", ifname, what));
}

}  // namespace

Result<LinkInfo> GetLink(Socket& sock, std::string_view ifname) {
  QNET_ASSIGN_OR_RETURN(Request req, BuildGetLink(ifname));
  std::optional<LinkInfo> found;
  QNET_TRY(
      Call(sock, req, fmt::format("RTM_GETLINK {}", ifname), [&](const nlmsghdr* nlh) -> Status {
        QNET_ASSIGN_OR_RETURN(found, ParseLink(nlh));
        return OkStatus();
      }));
  if (!found)
    return Fail(Errc::kProtocol, fmt::format("RTM_GETLINK {}: no reply before the ACK", ifname));
  return *std::move(found);
}

Result<int> LinkIndex(Socket& sock, std::string_view ifname) {
  QNET_ASSIGN_OR_RETURN(LinkInfo link, GetLink(sock, ifname));
  return link.index;
}

Result<std::vector<LinkInfo>> ListLinks(Socket& sock) {
  Request req = BuildDumpLinks();
  std::vector<LinkInfo> links;
  QNET_TRY(Call(sock, req, "RTM_GETLINK dump", [&](const nlmsghdr* nlh) -> Status {
    QNET_ASSIGN_OR_RETURN(LinkInfo link, ParseLink(nlh));
    links.push_back(std::move(link));
    return OkStatus();
  }));
  return links;
}

Status CreateVeth(Socket& sock, const VethSpec& spec) {
  QNET_ASSIGN_OR_RETURN(Request req, BuildNewVeth(spec));
  return Call(sock, req, fmt::format("RTM_NEWLINK veth {}", spec.name));
}

Status CreateBridge(Socket& sock, std::string_view name) {
  return CreateSimpleLink(sock, "bridge", name);
}

Status CreateDummy(Socket& sock, std::string_view name) {
  return CreateSimpleLink(sock, "dummy", name);
}

Status SetMaster(Socket& sock, std::string_view ifname, std::string_view master) {
  if (master.empty()) return ChangeLink(sock, ifname, LinkChange{.master = 0}, "nomaster");
  QNET_ASSIGN_OR_RETURN(int master_index, LinkIndex(sock, master));
  return ChangeLink(sock, ifname, LinkChange{.master = master_index},
                    fmt::format("master {}", master));
}

Status SetLinkUp(Socket& sock, std::string_view ifname, bool up) {
  return ChangeLink(sock, ifname, LinkChange{.up = up}, up ? "up" : "down");
}

Status SetMtu(Socket& sock, std::string_view ifname, uint32_t mtu) {
  return ChangeLink(sock, ifname, LinkChange{.mtu = mtu}, fmt::format("mtu {}", mtu));
}

Status DeleteLink(Socket& sock, std::string_view ifname) {
  QNET_ASSIGN_OR_RETURN(Request req, BuildDeleteLink(ifname));
  return Call(sock, req, fmt::format("RTM_DELLINK {}", ifname));
}

}  // namespace qnet::netlink
