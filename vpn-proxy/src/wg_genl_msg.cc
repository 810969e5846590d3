// The pure half of wg_genl.h: WireGuard generic netlink messages built from
// a Device and parsed back, including the split of a large set operation
// over several messages.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>
#include <netinet/in.h>

#include <cstring>
#include <set>

#include "qnet/netlink/link.h"
#include "qnet/vpn/wg_genl.h"

namespace qnet::vpn {
namespace {

Unexpected<Error> Malformed(std::string_view what) {
  return Fail(Errc::kProtocol, fmt::format("wireguard netlink message: {}", what));
}

// A message under construction in a buffer of the final size limit.
class MsgBuilder {
 public:
  MsgBuilder(size_t max, uint16_t type, uint16_t flags, uint8_t cmd, uint8_t version) : buf_(max) {
    nlh_ = mnl_nlmsg_put_header(buf_.data());
    nlh_->nlmsg_type = type;
    nlh_->nlmsg_flags = flags;
    auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(genlmsghdr)));
    g->cmd = cmd;
    g->version = version;
  }
  nlmsghdr* nlh() { return nlh_; }
  size_t max() const { return buf_.size(); }
  bool Put(uint16_t type, size_t len, const void* data) {
    return mnl_attr_put_check(nlh_, max(), type, len, data);
  }
  bool PutU8(uint16_t type, uint8_t v) { return Put(type, sizeof v, &v); }
  bool PutU16(uint16_t type, uint16_t v) { return Put(type, sizeof v, &v); }
  bool PutU32(uint16_t type, uint32_t v) { return Put(type, sizeof v, &v); }
  bool PutStr(uint16_t type, std::string_view s) {
    std::string z(s);
    return Put(type, z.size() + 1, z.c_str());
  }
  bool PutKey(uint16_t type, const Key& k) { return Put(type, kKeyLen, k.bytes().data()); }
  nlattr* Nest(uint16_t type) { return mnl_attr_nest_start_check(nlh_, max(), type); }
  void End(nlattr* nest) { mnl_attr_nest_end(nlh_, nest); }
  void Cancel(nlattr* nest) { mnl_attr_nest_cancel(nlh_, nest); }
  // Attribute bytes inside a nest so far (0: empty).
  size_t NestPayload(const nlattr* nest) const {
    return reinterpret_cast<const uint8_t*>(mnl_nlmsg_get_payload_tail(nlh_)) -
           reinterpret_cast<const uint8_t*>(nest) - sizeof(nlattr);
  }
  NlMessage Take() {
    buf_.resize(nlh_->nlmsg_len);
    return std::move(buf_);
  }

 private:
  NlMessage buf_;
  nlmsghdr* nlh_;
};

bool PutEndpoint(MsgBuilder& b, const SocketAddr& ep) {
  if (ep.addr.is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(ep.port);
    std::memcpy(&sin.sin_addr, ep.addr.data(), 4);
    return b.Put(WGPEER_A_ENDPOINT, sizeof sin, &sin);
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(ep.port);
  std::memcpy(&sin6.sin6_addr, ep.addr.data(), 16);
  return b.Put(WGPEER_A_ENDPOINT, sizeof sin6, &sin6);
}

bool PutAllowedIp(MsgBuilder& b, const IpPrefix& p) {
  nlattr* nest = b.Nest(0);
  if (nest == nullptr) return false;
  const uint16_t family = p.addr().is_v4() ? AF_INET : AF_INET6;
  if (!b.PutU16(WGALLOWEDIP_A_FAMILY, family) ||
      !b.Put(WGALLOWEDIP_A_IPADDR, p.addr().size(), p.addr().data()) ||
      !b.PutU8(WGALLOWEDIP_A_CIDR_MASK, static_cast<uint8_t>(p.len()))) {
    b.Cancel(nest);
    return false;
  }
  b.End(nest);
  return true;
}

// The attributes sent once per peer (not on a continuation).
bool PutPeerHead(MsgBuilder& b, const DevicePeer& p) {
  if (p.preshared_key && !b.PutKey(WGPEER_A_PRESHARED_KEY, *p.preshared_key)) return false;
  if (p.endpoint && !PutEndpoint(b, *p.endpoint)) return false;
  if (p.persistent_keepalive &&
      !b.PutU16(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, *p.persistent_keepalive))
    return false;
  if (p.protocol_version != 0 && !b.PutU32(WGPEER_A_PROTOCOL_VERSION, p.protocol_version))
    return false;
  return true;
}

bool PutDeviceHead(MsgBuilder& b, const Device& d) {
  if (d.replace_peers && !b.PutU32(WGDEVICE_A_FLAGS, WGDEVICE_F_REPLACE_PEERS)) return false;
  if (d.private_key && !b.PutKey(WGDEVICE_A_PRIVATE_KEY, *d.private_key)) return false;
  if (d.listen_port && !b.PutU16(WGDEVICE_A_LISTEN_PORT, *d.listen_port)) return false;
  if (d.fwmark && !b.PutU32(WGDEVICE_A_FWMARK, *d.fwmark)) return false;
  return true;
}

// Where a set operation stands between messages.
struct Cursor {
  size_t peer = 0;
  size_t allowed_ip = 0;
  bool continuing = false;  // peer's head went out in an earlier message
};

// Adds as much of peer c.peer as fits. Returns false when the message is
// full (c says where the next one starts); `progress` is set when anything
// of the peer went in.
bool PutPeer(MsgBuilder& b, const DevicePeer& p, Cursor& c, bool& progress) {
  nlattr* peer_nest = b.Nest(0);
  if (peer_nest == nullptr) return false;
  uint32_t flags = 0;
  if (p.remove) flags |= WGPEER_F_REMOVE_ME;
  if (p.update_only) flags |= WGPEER_F_UPDATE_ONLY;
  if (!c.continuing && p.replace_allowed_ips) flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
  if (!b.PutKey(WGPEER_A_PUBLIC_KEY, p.public_key) || (!c.continuing && !PutPeerHead(b, p)) ||
      (flags != 0 && !b.PutU32(WGPEER_A_FLAGS, flags))) {
    b.Cancel(peer_nest);
    return false;
  }
  if (!c.continuing) progress = true;
  c.continuing = true;  // from here on, the head is in this message
  if (c.allowed_ip < p.allowed_ips.size()) {
    nlattr* ips = b.Nest(WGPEER_A_ALLOWEDIPS);
    bool full = ips == nullptr;
    for (; !full && c.allowed_ip < p.allowed_ips.size(); ++c.allowed_ip) {
      if (!PutAllowedIp(b, p.allowed_ips[c.allowed_ip])) {
        full = true;
        break;
      }
      progress = true;
    }
    if (ips != nullptr) {
      if (b.NestPayload(ips) == 0)
        b.Cancel(ips);
      else
        b.End(ips);
    }
    if (full) {
      b.End(peer_nest);
      return false;
    }
  }
  b.End(peer_nest);
  ++c.peer;
  c.allowed_ip = 0;
  c.continuing = false;
  return true;
}

Status ValidateDevice(const Device& d) {
  QNET_TRY(netlink::ValidateIfName(d.name));
  std::set<std::array<uint8_t, kKeyLen>> keys;
  for (const DevicePeer& p : d.peers) {
    if (!keys.insert(p.public_key.bytes()).second)
      return Fail(Errc::kInvalidArgument,
                  fmt::format("wireguard device {}: two peers with one public key", d.name));
  }
  return OkStatus();
}

}  // namespace

NlMessage BuildGetFamily() {
  MsgBuilder b(256, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, CTRL_CMD_GETFAMILY, 1);
  b.PutStr(CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
  return b.Take();
}

Result<std::vector<NlMessage>> BuildSetDevice(uint16_t family, const Device& d, size_t max) {
  QNET_TRY(ValidateDevice(d));
  std::vector<NlMessage> out;
  Cursor c;
  do {
    MsgBuilder b(max, family, NLM_F_REQUEST | NLM_F_ACK, WG_CMD_SET_DEVICE, WG_GENL_VERSION);
    const bool first = out.empty();
    if (!b.PutStr(WGDEVICE_A_IFNAME, d.name) || (first && !PutDeviceHead(b, d)))
      return Fail(Errc::kInvalidArgument,
                  fmt::format("wireguard device {}: {} bytes cannot hold the device attributes",
                              d.name, max));
    bool progress = false;
    if (c.peer < d.peers.size()) {
      nlattr* peers = b.Nest(WGDEVICE_A_PEERS);
      while (peers != nullptr && c.peer < d.peers.size() &&
             PutPeer(b, d.peers[c.peer], c, progress)) {
      }
      if (peers != nullptr) {
        if (b.NestPayload(peers) == 0)
          b.Cancel(peers);
        else
          b.End(peers);
      }
      if (!progress && !first)
        return Fail(Errc::kInvalidArgument,
                    fmt::format("wireguard device {}: {} bytes cannot hold one peer", d.name, max));
    }
    out.push_back(b.Take());
  } while (c.peer < d.peers.size());
  return out;
}

Result<NlMessage> BuildGetDevice(uint16_t family, std::string_view ifname) {
  QNET_TRY(netlink::ValidateIfName(ifname));
  MsgBuilder b(256, family, NLM_F_REQUEST | NLM_F_DUMP, WG_CMD_GET_DEVICE, WG_GENL_VERSION);
  b.PutStr(WGDEVICE_A_IFNAME, ifname);
  return b.Take();
}

// ---- parsing ----

namespace {

// Calls f for each attribute in [p, p + len); kProtocol when one is cut off.
template <typename F>
Status ForEachAttr(const uint8_t* p, size_t len, F&& f) {
  while (len > 0) {
    if (len < sizeof(nlattr)) return Malformed("trailing bytes after the last attribute");
    const auto* a = reinterpret_cast<const nlattr*>(p);
    if (a->nla_len < sizeof(nlattr) || a->nla_len > len)
      return Malformed(fmt::format("attribute {} has length {} with {} bytes left",
                                   mnl_attr_get_type(a), a->nla_len, len));
    QNET_TRY(f(mnl_attr_get_type(a), static_cast<const uint8_t*>(mnl_attr_get_payload(a)),
               size_t{mnl_attr_get_payload_len(a)}));
    const size_t step = std::min<size_t>(MNL_ALIGN(a->nla_len), len);
    p += step;
    len -= step;
  }
  return OkStatus();
}

template <typename T>
Result<T> Fixed(const uint8_t* data, size_t len, std::string_view what) {
  if (len != sizeof(T))
    return Malformed(fmt::format("{} has {} bytes, not {}", what, len, sizeof(T)));
  T v;
  std::memcpy(&v, data, sizeof v);
  return v;
}

Result<Key> KeyAttr(const uint8_t* data, size_t len, std::string_view what) {
  if (len != kKeyLen) return Malformed(fmt::format("{} has {} bytes, not 32", what, len));
  std::array<uint8_t, kKeyLen> k;
  std::memcpy(k.data(), data, kKeyLen);
  return Key(k);
}

Result<IpAddr> AddrFrom(uint16_t family, const uint8_t* data, size_t len) {
  if (family == AF_INET && len == 4) return IpAddr::V4(data[0], data[1], data[2], data[3]);
  if (family == AF_INET6 && len == 16) {
    std::array<uint8_t, 16> b;
    std::memcpy(b.data(), data, 16);
    return IpAddr::V6(b);
  }
  return Malformed(fmt::format("address of family {} with {} bytes", family, len));
}

Result<SocketAddr> ParseEndpoint(const uint8_t* data, size_t len) {
  if (len < sizeof(sa_family_t)) return Malformed("endpoint too short");
  sa_family_t family;
  std::memcpy(&family, data, sizeof family);
  if (family == AF_INET && len == sizeof(sockaddr_in)) {
    sockaddr_in sin;
    std::memcpy(&sin, data, sizeof sin);
    return SocketAddr{AddrFrom(AF_INET, reinterpret_cast<const uint8_t*>(&sin.sin_addr), 4).value(),
                      ntohs(sin.sin_port)};
  }
  if (family == AF_INET6 && len == sizeof(sockaddr_in6)) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, data, sizeof sin6);
    return SocketAddr{
        AddrFrom(AF_INET6, reinterpret_cast<const uint8_t*>(&sin6.sin6_addr), 16).value(),
        ntohs(sin6.sin6_port)};
  }
  return Malformed(fmt::format("endpoint of family {} with {} bytes", family, len));
}

Result<IpPrefix> ParseAllowedIp(const uint8_t* data, size_t len) {
  std::optional<uint16_t> family;
  const uint8_t* addr = nullptr;
  size_t addr_len = 0;
  std::optional<uint8_t> cidr;
  QNET_TRY(ForEachAttr(data, len, [&](uint16_t type, const uint8_t* d, size_t l) -> Status {
    switch (type) {
      case WGALLOWEDIP_A_FAMILY: {
        QNET_ASSIGN_OR_RETURN(family, Fixed<uint16_t>(d, l, "allowed IP family"));
        break;
      }
      case WGALLOWEDIP_A_IPADDR:
        addr = d;
        addr_len = l;
        break;
      case WGALLOWEDIP_A_CIDR_MASK: {
        QNET_ASSIGN_OR_RETURN(cidr, Fixed<uint8_t>(d, l, "allowed IP mask"));
        break;
      }
    }
    return OkStatus();
  }));
  if (!family || addr == nullptr || !cidr)
    return Malformed("allowed IP without family, address or mask");
  QNET_ASSIGN_OR_RETURN(IpAddr a, AddrFrom(*family, addr, addr_len));
  if (*cidr > (a.is_v4() ? 32 : 128)) return Malformed(fmt::format("allowed IP mask /{}", *cidr));
  return IpPrefix(a, *cidr);
}

Status ParsePeerAttr(uint16_t type, const uint8_t* d, size_t l, DevicePeer& p, bool& has_key) {
  switch (type) {
    case WGPEER_A_PUBLIC_KEY: {
      QNET_ASSIGN_OR_RETURN(p.public_key, KeyAttr(d, l, "peer public key"));
      has_key = true;
      break;
    }
    case WGPEER_A_PRESHARED_KEY: {
      QNET_ASSIGN_OR_RETURN(Key k, KeyAttr(d, l, "preshared key"));
      p.preshared_key = k;
      break;
    }
    case WGPEER_A_FLAGS: {
      QNET_ASSIGN_OR_RETURN(uint32_t f, Fixed<uint32_t>(d, l, "peer flags"));
      p.remove = (f & WGPEER_F_REMOVE_ME) != 0;
      p.replace_allowed_ips = (f & WGPEER_F_REPLACE_ALLOWEDIPS) != 0;
      p.update_only = (f & WGPEER_F_UPDATE_ONLY) != 0;
      break;
    }
    case WGPEER_A_ENDPOINT: {
      QNET_ASSIGN_OR_RETURN(p.endpoint, ParseEndpoint(d, l));
      break;
    }
    case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL: {
      QNET_ASSIGN_OR_RETURN(p.persistent_keepalive, Fixed<uint16_t>(d, l, "keepalive"));
      break;
    }
    case WGPEER_A_LAST_HANDSHAKE_TIME: {
      QNET_ASSIGN_OR_RETURN(auto ts, Fixed<__kernel_timespec>(d, l, "last handshake time"));
      p.last_handshake_sec = ts.tv_sec;
      p.last_handshake_nsec = ts.tv_nsec;
      break;
    }
    case WGPEER_A_RX_BYTES: {
      QNET_ASSIGN_OR_RETURN(p.rx_bytes, Fixed<uint64_t>(d, l, "rx bytes"));
      break;
    }
    case WGPEER_A_TX_BYTES: {
      QNET_ASSIGN_OR_RETURN(p.tx_bytes, Fixed<uint64_t>(d, l, "tx bytes"));
      break;
    }
    case WGPEER_A_PROTOCOL_VERSION: {
      QNET_ASSIGN_OR_RETURN(p.protocol_version, Fixed<uint32_t>(d, l, "protocol version"));
      break;
    }
    case WGPEER_A_ALLOWEDIPS:
      return ForEachAttr(d, l, [&](uint16_t, const uint8_t* ad, size_t al) -> Status {
        QNET_ASSIGN_OR_RETURN(IpPrefix ip, ParseAllowedIp(ad, al));
        p.allowed_ips.push_back(ip);
        return OkStatus();
      });
  }
  return OkStatus();
}

Status ParsePeers(const uint8_t* data, size_t len, Device& d) {
  bool first = true;
  return ForEachAttr(data, len, [&](uint16_t, const uint8_t* pd, size_t pl) -> Status {
    DevicePeer p;
    bool has_key = false;
    QNET_TRY(ForEachAttr(pd, pl, [&](uint16_t type, const uint8_t* d2, size_t l2) {
      return ParsePeerAttr(type, d2, l2, p, has_key);
    }));
    if (!has_key) return Malformed("peer without a public key");
    // The first peer of a message may continue the last one of the previous
    // message: only its allowed IPs are new.
    if (first && !d.peers.empty() && d.peers.back().public_key == p.public_key) {
      auto& ips = d.peers.back().allowed_ips;
      ips.insert(ips.end(), p.allowed_ips.begin(), p.allowed_ips.end());
    } else {
      d.peers.push_back(std::move(p));
    }
    first = false;
    return OkStatus();
  });
}

Status ParseDeviceAttr(uint16_t type, const uint8_t* d, size_t l, Device& dev) {
  switch (type) {
    case WGDEVICE_A_IFINDEX: {
      QNET_ASSIGN_OR_RETURN(uint32_t i, Fixed<uint32_t>(d, l, "ifindex"));
      dev.ifindex = static_cast<int>(i);
      break;
    }
    case WGDEVICE_A_IFNAME:
      dev.name.assign(reinterpret_cast<const char*>(d),
                      strnlen(reinterpret_cast<const char*>(d), l));
      break;
    case WGDEVICE_A_PRIVATE_KEY: {
      QNET_ASSIGN_OR_RETURN(dev.private_key, KeyAttr(d, l, "private key"));
      break;
    }
    case WGDEVICE_A_PUBLIC_KEY: {
      QNET_ASSIGN_OR_RETURN(dev.public_key, KeyAttr(d, l, "public key"));
      break;
    }
    case WGDEVICE_A_FLAGS: {
      QNET_ASSIGN_OR_RETURN(uint32_t f, Fixed<uint32_t>(d, l, "device flags"));
      dev.replace_peers = (f & WGDEVICE_F_REPLACE_PEERS) != 0;
      break;
    }
    case WGDEVICE_A_LISTEN_PORT: {
      QNET_ASSIGN_OR_RETURN(dev.listen_port, Fixed<uint16_t>(d, l, "listen port"));
      break;
    }
    case WGDEVICE_A_FWMARK: {
      QNET_ASSIGN_OR_RETURN(dev.fwmark, Fixed<uint32_t>(d, l, "fwmark"));
      break;
    }
    case WGDEVICE_A_PEERS:
      return ParsePeers(d, l, dev);
  }
  return OkStatus();
}

constexpr size_t kHeaders = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(genlmsghdr));

}  // namespace

Status ParseDeviceMessage(const uint8_t* msg, size_t len, Device& device) {
  if (len < kHeaders) return Malformed("shorter than its headers");
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg);
  if (nlh->nlmsg_len < kHeaders || nlh->nlmsg_len > len)
    return Malformed(fmt::format("length {} with {} bytes", nlh->nlmsg_len, len));
  return ForEachAttr(msg + kHeaders, nlh->nlmsg_len - kHeaders,
                     [&](uint16_t type, const uint8_t* d, size_t l) {
                       return ParseDeviceAttr(type, d, l, device);
                     });
}

Result<uint16_t> ParseFamilyId(const uint8_t* msg, size_t len) {
  if (len < kHeaders) return Malformed("family reply shorter than its headers");
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg);
  if (nlh->nlmsg_len < kHeaders || nlh->nlmsg_len > len) return Malformed("family reply length");
  std::optional<uint16_t> id;
  QNET_TRY(ForEachAttr(msg + kHeaders, nlh->nlmsg_len - kHeaders,
                       [&](uint16_t type, const uint8_t* d, size_t l) -> Status {
                         if (type == CTRL_ATTR_FAMILY_ID) {
                           QNET_ASSIGN_OR_RETURN(id, Fixed<uint16_t>(d, l, "family id"));
                         }
                         return OkStatus();
                       }));
  if (!id) return Fail(Errc::kNotFound, "generic netlink family reply without an id");
  return *id;
}

}  // namespace qnet::vpn
