// Pure builders and parsers for RTM_*LINK messages (see rtnl_msg.h).
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cctype>

#include "attr.h"
#include "qnet/netlink/rtnl_msg.h"

namespace qnet::netlink {
namespace {

ifinfomsg* PutIfinfo(nlmsghdr* nlh) {
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  return ifm;
}

Status ValidateMac(const std::optional<Mac>& mac, std::string_view ifname) {
  if (mac && (mac->is_multicast() || mac->is_zero()))
    return Fail(Errc::kInvalidArgument,
                fmt::format("{}: MAC address {} is not a unicast address", ifname, *mac));
  return OkStatus();
}

// The attributes both ends of a veth share: name, MAC, MTU.
void PutLinkBasics(nlmsghdr* nlh, std::string_view name, const std::optional<Mac>& mac,
                   const std::optional<uint32_t>& mtu) {
  mnl_attr_put_strz(nlh, IFLA_IFNAME, std::string(name).c_str());
  if (mac) mnl_attr_put(nlh, IFLA_ADDRESS, Mac::kSize, mac->data());
  if (mtu) mnl_attr_put_u32(nlh, IFLA_MTU, *mtu);
}

}  // namespace

Request::Request(uint16_t type, uint16_t flags) : buf_(kCapacity / sizeof(uint64_t), 0) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf_.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
}

Status ValidateIfName(std::string_view ifname) {
  auto bad = [&](const char* why) {
    return Fail(Errc::kInvalidArgument, fmt::format("bad interface name '{}': {}", ifname, why));
  };
  if (ifname.empty()) return bad("empty");
  if (ifname.size() > kMaxIfNameLen) return bad("longer than 15 bytes");
  if (ifname == "." || ifname == "..") return bad("reserved");
  for (char c : ifname) {
    if (c == '/' || c == ':' || c == '\0' || std::isspace(static_cast<unsigned char>(c)))
      return bad("contains '/', ':', NUL or whitespace");
  }
  return OkStatus();
}

Result<Request> BuildGetLink(std::string_view ifname) {
  QNET_TRY(ValidateIfName(ifname));
  Request req(RTM_GETLINK, NLM_F_ACK);
  PutIfinfo(req.header());
  mnl_attr_put_strz(req.header(), IFLA_IFNAME, std::string(ifname).c_str());
  mnl_attr_put_u32(req.header(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return req;
}

Request BuildDumpLinks() {
  Request req(RTM_GETLINK, NLM_F_DUMP);
  PutIfinfo(req.header());
  mnl_attr_put_u32(req.header(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return req;
}

Result<Request> BuildNewVeth(const VethSpec& spec) {
  QNET_TRY(ValidateIfName(spec.name));
  QNET_TRY(ValidateIfName(spec.peer_name));
  QNET_TRY(ValidateMac(spec.mac, spec.name));
  QNET_TRY(ValidateMac(spec.peer_mac, spec.peer_name));
  Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  nlmsghdr* nlh = req.header();
  PutIfinfo(nlh);
  PutLinkBasics(nlh, spec.name, spec.mac, spec.mtu);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer is described by a whole ifinfomsg plus attributes, as in NEWLINK.
  PutIfinfo(nlh);
  PutLinkBasics(nlh, spec.peer_name, spec.peer_mac, spec.mtu);
  if (spec.peer_netns_fd >= 0)
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(spec.peer_netns_fd));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return req;
}

Result<Request> BuildNewLink(std::string_view kind, std::string_view name) {
  QNET_TRY(ValidateIfName(name));
  if (kind.empty() || kind.size() > 32)
    return Fail(Errc::kInvalidArgument, fmt::format("bad link kind '{}'", kind));
  Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  nlmsghdr* nlh = req.header();
  PutIfinfo(nlh);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, std::string(name).c_str());
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, std::string(kind).c_str());
  mnl_attr_nest_end(nlh, linkinfo);
  return req;
}

Result<Request> BuildSetLink(std::string_view ifname, const LinkChange& change) {
  QNET_TRY(ValidateIfName(ifname));
  if (change.master && *change.master < 0)
    return Fail(Errc::kInvalidArgument,
                fmt::format("{}: bad master index {}", ifname, *change.master));
  Request req(RTM_SETLINK, NLM_F_ACK);
  nlmsghdr* nlh = req.header();
  ifinfomsg* ifm = PutIfinfo(nlh);
  if (change.up) {
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = *change.up ? IFF_UP : 0;
  }
  mnl_attr_put_strz(nlh, IFLA_IFNAME, std::string(ifname).c_str());
  if (change.master) mnl_attr_put_u32(nlh, IFLA_MASTER, static_cast<uint32_t>(*change.master));
  if (change.mtu) mnl_attr_put_u32(nlh, IFLA_MTU, *change.mtu);
  return req;
}

Result<Request> BuildDeleteLink(std::string_view ifname) {
  QNET_TRY(ValidateIfName(ifname));
  Request req(RTM_DELLINK, NLM_F_ACK);
  PutIfinfo(req.header());
  mnl_attr_put_strz(req.header(), IFLA_IFNAME, std::string(ifname).c_str());
  return req;
}

Result<LinkInfo> ParseLink(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != RTM_NEWLINK)
    return Fail(Errc::kProtocol,
                fmt::format("netlink message type {}, want RTM_NEWLINK", nlh->nlmsg_type));
  QNET_ASSIGN_OR_RETURN(internal::AttrTable tb,
                        internal::IndexAttrs(nlh, sizeof(ifinfomsg), IFLA_MAX));
  const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  LinkInfo info;
  info.index = ifm->ifi_index;
  info.flags = ifm->ifi_flags;
  info.up = (ifm->ifi_flags & IFF_UP) != 0;
  info.lower_up = (ifm->ifi_flags & IFF_LOWER_UP) != 0;
  if (tb[IFLA_IFNAME]) info.name = internal::AttrString(tb[IFLA_IFNAME]);
  if (tb[IFLA_ADDRESS]) {
    auto mac = Mac::FromBytes(mnl_attr_get_payload(tb[IFLA_ADDRESS]),
                              mnl_attr_get_payload_len(tb[IFLA_ADDRESS]));
    if (mac) info.mac = *mac;  // other link types have other address lengths
  }
  if (tb[IFLA_MTU]) {
    QNET_ASSIGN_OR_RETURN(info.mtu, internal::AttrU32(tb[IFLA_MTU], "IFLA_MTU"));
  }
  if (tb[IFLA_MASTER]) {
    QNET_ASSIGN_OR_RETURN(uint32_t master, internal::AttrU32(tb[IFLA_MASTER], "IFLA_MASTER"));
    info.master = static_cast<int>(master);
  }
  if (tb[IFLA_LINKINFO]) {
    internal::AttrTable li = internal::IndexNested(tb[IFLA_LINKINFO], IFLA_INFO_MAX);
    if (li[IFLA_INFO_KIND]) info.kind = internal::AttrString(li[IFLA_INFO_KIND]);
  }
  if (info.name.empty())
    return Fail(Errc::kProtocol, fmt::format("RTM_NEWLINK index {} without a name", info.index));
  return info;
}

}  // namespace qnet::netlink
