// The shell of wg_genl.h: family resolution and the round trips.
#include "qnet/vpn/wg_genl.h"

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <cerrno>

#include "qnet/netlink/rtnl_msg.h"

namespace qnet::vpn {
namespace {

constexpr std::string_view kNoWireguard =
    "no WireGuard in this kernel (the wireguard module is not loaded or not built); the "
    "userspace backend (wireguard-go) works without it";

void Stamp(netlink::Socket& sock, NlMessage& msg) {
  reinterpret_cast<nlmsghdr*>(msg.data())->nlmsg_seq = sock.NextSeq();
}

}  // namespace

Result<KernelWg> KernelWg::Open(netlink::Socket sock) {
  NlMessage req = BuildGetFamily();
  Stamp(sock, req);
  Result<uint16_t> id = Fail(Errc::kNotFound, "no reply");
  Status s =
      sock.Request(reinterpret_cast<const nlmsghdr*>(req.data()), "CTRL_CMD_GETFAMILY wireguard",
                   [&](const nlmsghdr* nlh) {
                     id = ParseFamilyId(reinterpret_cast<const uint8_t*>(nlh), nlh->nlmsg_len);
                     return id ? MNL_CB_OK : MNL_CB_ERROR;
                   });
  if (!s && s.error().sys_errno() == ENOENT)
    return Fail(Error(Errc::kUnavailable,
                      fmt::format("{} (generic netlink family \"wireguard\": {})", kNoWireguard,
                                  s.error().message()),
                      ENOENT));
  if (!id) return Fail(id.error());
  if (!s) return Fail(s.error());
  return KernelWg(std::move(sock), *id);
}

Status KernelWg::SetDevice(const Device& device) {
  QNET_ASSIGN_OR_RETURN(std::vector<NlMessage> msgs, BuildSetDevice(family_, device));
  for (size_t i = 0; i < msgs.size(); ++i) {
    Stamp(sock_, msgs[i]);
    Status s = sock_.Request(
        reinterpret_cast<const nlmsghdr*>(msgs[i].data()),
        fmt::format("WG_CMD_SET_DEVICE {} (message {} of {})", device.name, i + 1, msgs.size()));
    if (!s) return Fail(netlink::ClassifyNetlinkError(s.error()));
  }
  return OkStatus();
}

Result<Device> KernelWg::GetDevice(std::string_view ifname) {
  QNET_ASSIGN_OR_RETURN(NlMessage req, BuildGetDevice(family_, ifname));
  Stamp(sock_, req);
  Device device;
  Status parsed = OkStatus();
  Status s = sock_.Request(reinterpret_cast<const nlmsghdr*>(req.data()),
                           fmt::format("WG_CMD_GET_DEVICE {}", ifname), [&](const nlmsghdr* nlh) {
                             parsed = ParseDeviceMessage(reinterpret_cast<const uint8_t*>(nlh),
                                                         nlh->nlmsg_len, device);
                             return parsed ? MNL_CB_OK : MNL_CB_ERROR;
                           });
  if (!parsed) return Fail(parsed.error());
  if (!s) return Fail(netlink::ClassifyNetlinkError(s.error()));
  return device;
}

Status CreateWireguardLink(netlink::Socket& rtnl, std::string_view ifname) {
  QNET_ASSIGN_OR_RETURN(netlink::Request req, netlink::BuildNewLink("wireguard", ifname));
  req.set_seq(rtnl.NextSeq());
  Status s = rtnl.Request(req.header(), fmt::format("RTM_NEWLINK wireguard {}", ifname));
  if (s) return OkStatus();
  if (s.error().sys_errno() == EOPNOTSUPP)
    return Fail(Error(Errc::kUnavailable,
                      fmt::format("{} (creating wireguard link {}: {})", kNoWireguard, ifname,
                                  s.error().message()),
                      EOPNOTSUPP));
  return Fail(netlink::ClassifyNetlinkError(s.error()));
}

}  // namespace qnet::vpn
