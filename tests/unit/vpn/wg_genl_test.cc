#include "qnet/vpn/wg_genl.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>

#include <cstring>
#include <initializer_list>

#include "wg_device_example.h"

namespace qnet::vpn {
namespace {

constexpr uint16_t kFamily = 0x1f;

// The message layout written down from <linux/wireguard.h> and netlink(7),
// independently of the encoder: an attribute is u16 length (header
// included), u16 type, payload, padding to 4 bytes; nests carry
// NLA_F_NESTED; a message is nlmsghdr, genlmsghdr, attributes.
using Bytes = std::vector<uint8_t>;

Bytes Attr(uint16_t type, const Bytes& payload) {
  Bytes out(4);
  const uint16_t len = static_cast<uint16_t>(4 + payload.size());
  std::memcpy(&out[0], &len, 2);
  std::memcpy(&out[2], &type, 2);
  out.insert(out.end(), payload.begin(), payload.end());
  out.resize((out.size() + 3) / 4 * 4, 0);
  return out;
}
template <typename T>
Bytes Raw(T v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}
Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes Nest(uint16_t type, std::initializer_list<Bytes> parts) {
  return Attr(type | NLA_F_NESTED, Cat(parts));
}
Bytes Message(uint16_t type, uint16_t flags, uint8_t cmd, const Bytes& attrs) {
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(sizeof h + 4 + attrs.size());
  h.nlmsg_type = type;
  h.nlmsg_flags = flags;
  genlmsghdr g{};
  g.cmd = cmd;
  g.version = 1;
  return Cat({Raw(h), Raw(g), attrs});
}
Bytes Str(std::string_view s) {
  Bytes b(s.begin(), s.end());
  b.push_back(0);
  return b;
}

using testing::ExampleDevice;
using testing::Ip;
using testing::K;
using testing::Net;
Bytes KeyBytes(uint8_t fill) { return Bytes(kKeyLen, fill); }

Result<Device> ParseAll(const std::vector<NlMessage>& msgs) {
  Device d;
  for (const NlMessage& m : msgs) QNET_TRY(ParseDeviceMessage(m.data(), m.size(), d));
  return d;
}

// The backends' example device plus a peer updated over IPv6.
Device SmallDevice() {
  Device d = ExampleDevice(SocketAddr{Ip("203.0.113.20"), 51820}, 51820);
  DevicePeer v6;
  v6.public_key = K(5);
  v6.endpoint = SocketAddr{Ip("2001:db8:2::20"), 443};
  v6.update_only = true;
  d.peers.push_back(v6);
  return d;
}

TEST(WgGenl, SetDeviceEncodesAndDecodesBackEqual) {
  const Device d = SmallDevice();
  auto msgs = BuildSetDevice(kFamily, d);
  ASSERT_TRUE(msgs.has_value()) << msgs.error().message();
  ASSERT_EQ(msgs->size(), 1u);
  auto back = ParseAll(*msgs);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, d);
}

TEST(WgGenl, SetDeviceMatchesTheDocumentedLayout) {
  Device d;
  d.name = "wg0";
  d.listen_port = 51820;
  d.replace_peers = true;
  DevicePeer p;
  p.public_key = K(2);
  p.endpoint = SocketAddr{Ip("203.0.113.20"), 51820};
  p.allowed_ips = {Net("10.0.0.0/8")};
  p.replace_allowed_ips = true;
  d.peers.push_back(p);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(51820);
  inet_pton(AF_INET, "203.0.113.20", &sin.sin_addr);
  const Bytes expected = Message(
      kFamily, NLM_F_REQUEST | NLM_F_ACK, WG_CMD_SET_DEVICE,
      Cat({Attr(WGDEVICE_A_IFNAME, Str("wg0")),
           Attr(WGDEVICE_A_FLAGS, Raw<uint32_t>(WGDEVICE_F_REPLACE_PEERS)),
           Attr(WGDEVICE_A_LISTEN_PORT, Raw<uint16_t>(51820)),
           Nest(WGDEVICE_A_PEERS,
                {Nest(0, {Attr(WGPEER_A_PUBLIC_KEY, KeyBytes(2)), Attr(WGPEER_A_ENDPOINT, Raw(sin)),
                          Attr(WGPEER_A_FLAGS, Raw<uint32_t>(WGPEER_F_REPLACE_ALLOWEDIPS)),
                          Nest(WGPEER_A_ALLOWEDIPS,
                               {Nest(0, {Attr(WGALLOWEDIP_A_FAMILY, Raw<uint16_t>(AF_INET)),
                                         Attr(WGALLOWEDIP_A_IPADDR, Bytes{10, 0, 0, 0}),
                                         Attr(WGALLOWEDIP_A_CIDR_MASK, Raw<uint8_t>(8))})})})})}));
  auto msgs = BuildSetDevice(kFamily, d);
  ASSERT_TRUE(msgs.has_value()) << msgs.error().message();
  ASSERT_EQ(msgs->size(), 1u);
  EXPECT_EQ((*msgs)[0], expected);
}

TEST(WgGenl, GetDeviceAndFamilyRequestsMatchTheDocumentedLayout) {
  auto get = BuildGetDevice(kFamily, "wg0");
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(*get, Message(kFamily, NLM_F_REQUEST | NLM_F_DUMP, WG_CMD_GET_DEVICE,
                          Attr(WGDEVICE_A_IFNAME, Str("wg0"))));
  EXPECT_EQ(BuildGetFamily(), Message(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, CTRL_CMD_GETFAMILY,
                                      Attr(CTRL_ATTR_FAMILY_NAME, Str("wireguard"))));
  const Bytes reply = Message(GENL_ID_CTRL, 0, CTRL_CMD_NEWFAMILY,
                              Cat({Attr(CTRL_ATTR_FAMILY_NAME, Str("wireguard")),
                                   Attr(CTRL_ATTR_FAMILY_ID, Raw<uint16_t>(0x22))}));
  auto id = ParseFamilyId(reply.data(), reply.size());
  ASSERT_TRUE(id.has_value()) << id.error().message();
  EXPECT_EQ(*id, 0x22);
}

TEST(WgGenl, ManyPeersSplitOverMessagesAsTheKernelRequires) {
  Device d;
  d.name = "wg0";
  d.private_key = K(1);
  d.replace_peers = true;
  for (int i = 0; i < 300; ++i) {
    DevicePeer p;
    std::array<uint8_t, kKeyLen> key{};
    key[0] = static_cast<uint8_t>(i);
    key[1] = static_cast<uint8_t>(i >> 8);
    key[2] = 1;
    p.public_key = Key(key);
    p.endpoint = SocketAddr{IpAddr::V4(203, 0, 113, static_cast<uint8_t>(i % 250)), 51820};
    p.allowed_ips = {
        IpPrefix(IpAddr::V4(10, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 0), 24),
        Net("fd00::/64")};
    p.replace_allowed_ips = true;
    d.peers.push_back(p);
  }
  auto msgs = BuildSetDevice(kFamily, d);
  ASSERT_TRUE(msgs.has_value()) << msgs.error().message();
  EXPECT_GT(msgs->size(), 5u);
  for (size_t i = 0; i < msgs->size(); ++i) {
    EXPECT_LE((*msgs)[i].size(), kWgMaxMessage);
    // Only the first message carries the device's own attributes.
    Device alone;
    ASSERT_TRUE(ParseDeviceMessage((*msgs)[i].data(), (*msgs)[i].size(), alone).ok());
    EXPECT_EQ(alone.name, "wg0");
    EXPECT_EQ(alone.private_key.has_value(), i == 0);
    EXPECT_EQ(alone.replace_peers, i == 0);
    EXPECT_FALSE(alone.peers.empty());
  }
  auto back = ParseAll(*msgs);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, d);
}

TEST(WgGenl, AllowedIpsOfOnePeerContinueWithoutReplacing) {
  Device d;
  d.name = "wg0";
  DevicePeer p;
  p.public_key = K(7);
  p.preshared_key = K(8);
  p.endpoint = SocketAddr{Ip("2001:db8:2::20"), 51820};
  p.replace_allowed_ips = true;
  for (int i = 0; i < 2000; ++i)
    p.allowed_ips.push_back(
        IpPrefix(IpAddr::V4(10, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 0), 24));
  d.peers.push_back(p);
  auto msgs = BuildSetDevice(kFamily, d, 1024);
  ASSERT_TRUE(msgs.has_value()) << msgs.error().message();
  ASSERT_GT(msgs->size(), 2u);
  for (size_t i = 0; i < msgs->size(); ++i) {
    EXPECT_LE((*msgs)[i].size(), 1024u);
    Device alone;
    ASSERT_TRUE(ParseDeviceMessage((*msgs)[i].data(), (*msgs)[i].size(), alone).ok());
    ASSERT_EQ(alone.peers.size(), 1u);
    EXPECT_EQ(alone.peers[0].public_key, K(7));
    // A continuation must append: no replace flag, no repeated attributes.
    EXPECT_EQ(alone.peers[0].replace_allowed_ips, i == 0) << "message " << i;
    EXPECT_EQ(alone.peers[0].preshared_key.has_value(), i == 0);
    EXPECT_EQ(alone.peers[0].endpoint.has_value(), i == 0);
  }
  auto back = ParseAll(*msgs);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, d);
}

TEST(WgGenl, ParsesAKernelDumpWithAContinuedPeer) {
  __kernel_timespec ts{.tv_sec = 1700000000, .tv_nsec = 5};
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(51820);
  inet_pton(AF_INET6, "2001:db8:2::20", &sin6.sin6_addr);
  auto aip = [](uint16_t fam, Bytes addr, uint8_t cidr) {
    return Nest(0, {Attr(WGALLOWEDIP_A_FAMILY, Raw(fam)), Attr(WGALLOWEDIP_A_IPADDR, addr),
                    Attr(WGALLOWEDIP_A_CIDR_MASK, Raw(cidr))});
  };
  const Bytes device_head =
      Cat({Attr(WGDEVICE_A_IFINDEX, Raw<uint32_t>(7)), Attr(WGDEVICE_A_IFNAME, Str("wg0")),
           Attr(WGDEVICE_A_PRIVATE_KEY, KeyBytes(1)), Attr(WGDEVICE_A_PUBLIC_KEY, KeyBytes(9)),
           Attr(WGDEVICE_A_LISTEN_PORT, Raw<uint16_t>(40000)),
           Attr(WGDEVICE_A_FWMARK, Raw<uint32_t>(0))});
  const Bytes first =
      Message(kFamily, NLM_F_MULTI, WG_CMD_GET_DEVICE,
              Cat({device_head,
                   Nest(WGDEVICE_A_PEERS,
                        {Nest(0, {Attr(WGPEER_A_PUBLIC_KEY, KeyBytes(2)),
                                  Attr(WGPEER_A_PRESHARED_KEY, KeyBytes(0)),
                                  Attr(WGPEER_A_ENDPOINT, Raw(sin6)),
                                  Attr(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, Raw<uint16_t>(25)),
                                  Attr(WGPEER_A_LAST_HANDSHAKE_TIME, Raw(ts)),
                                  Attr(WGPEER_A_RX_BYTES, Raw<uint64_t>(1000)),
                                  Attr(WGPEER_A_TX_BYTES, Raw<uint64_t>(2000)),
                                  Attr(WGPEER_A_PROTOCOL_VERSION, Raw<uint32_t>(1)),
                                  Nest(WGPEER_A_ALLOWEDIPS, {aip(AF_INET, {0, 0, 0, 0}, 0)}),
                                  Attr(99, Bytes{1, 2, 3})})})}));  // an attribute from the future
  const Bytes second =
      Message(kFamily, NLM_F_MULTI, WG_CMD_GET_DEVICE,
              Cat({device_head,
                   Nest(WGDEVICE_A_PEERS,
                        {Nest(0, {Attr(WGPEER_A_PUBLIC_KEY, KeyBytes(2)),
                                  Nest(WGPEER_A_ALLOWEDIPS, {aip(AF_INET6, Bytes(16, 0), 0)})}),
                         Nest(0, {Attr(WGPEER_A_PUBLIC_KEY, KeyBytes(3))})})}));
  Device d;
  ASSERT_TRUE(ParseDeviceMessage(first.data(), first.size(), d).ok());
  auto s = ParseDeviceMessage(second.data(), second.size(), d);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(d.ifindex, 7);
  EXPECT_EQ(d.name, "wg0");
  EXPECT_EQ(d.public_key, K(9));
  EXPECT_EQ(d.listen_port, 40000);
  ASSERT_EQ(d.peers.size(), 2u);
  const DevicePeer& p = d.peers[0];
  EXPECT_EQ(p.public_key, K(2));
  EXPECT_EQ(p.endpoint, (SocketAddr{Ip("2001:db8:2::20"), 51820}));
  EXPECT_EQ(p.endpoint->ToString(), "[2001:db8:2::20]:51820");
  EXPECT_EQ(p.persistent_keepalive, 25);
  EXPECT_EQ(p.last_handshake_sec, 1700000000);
  EXPECT_EQ(p.rx_bytes, 1000u);
  EXPECT_EQ(p.tx_bytes, 2000u);
  EXPECT_EQ(p.protocol_version, 1u);
  EXPECT_EQ(p.allowed_ips, (std::vector<IpPrefix>{Net("0.0.0.0/0"), Net("::/0")}));
  EXPECT_EQ(d.peers[1].public_key, K(3));
}

TEST(WgGenl, RefusesMalformedMessages) {
  const Bytes good = Message(kFamily, 0, WG_CMD_GET_DEVICE, Attr(WGDEVICE_A_IFNAME, Str("wg0")));
  const std::pair<Bytes, std::string> cases[] = {
      {Bytes(good.begin(), good.begin() + 10), "shorter than its headers"},
      {Cat({good, Bytes{1, 2}}), ""},  // trailing bytes beyond nlmsg_len are not this message's
      {Message(kFamily, 0, 0, Cat({Attr(WGDEVICE_A_IFNAME, Str("wg0")), Bytes{8, 0, 1, 0}})),
       "attribute 1 has length 8 with 4 bytes left"},
      {Message(kFamily, 0, 0, Attr(WGDEVICE_A_PRIVATE_KEY, Bytes(31, 1))),
       "private key has 31 bytes, not 32"},
      {Message(kFamily, 0, 0, Attr(WGDEVICE_A_LISTEN_PORT, Raw<uint32_t>(1))),
       "listen port has 4 bytes, not 2"},
      {Message(kFamily, 0, 0,
               Nest(WGDEVICE_A_PEERS, {Nest(0, {Attr(WGPEER_A_RX_BYTES, Raw<uint64_t>(1))})})),
       "peer without a public key"},
      {Message(kFamily, 0, 0,
               Nest(WGDEVICE_A_PEERS, {Nest(0, {Attr(WGPEER_A_PUBLIC_KEY, KeyBytes(1)),
                                                Attr(WGPEER_A_ENDPOINT, Bytes(12, 0))})})),
       "endpoint of family 0 with 12 bytes"},
      {Message(
           kFamily, 0, 0,
           Nest(WGDEVICE_A_PEERS,
                {Nest(0, {Attr(WGPEER_A_PUBLIC_KEY, KeyBytes(1)),
                          Nest(WGPEER_A_ALLOWEDIPS,
                               {Nest(0, {Attr(WGALLOWEDIP_A_FAMILY, Raw<uint16_t>(AF_INET)),
                                         Attr(WGALLOWEDIP_A_IPADDR, Bytes{10, 0, 0, 0}),
                                         Attr(WGALLOWEDIP_A_CIDR_MASK, Raw<uint8_t>(33))})})})})),
       "allowed IP mask /33"},
      {Message(
           kFamily, 0, 0,
           Nest(WGDEVICE_A_PEERS,
                {Nest(0, {Attr(WGPEER_A_PUBLIC_KEY, KeyBytes(1)),
                          Nest(WGPEER_A_ALLOWEDIPS,
                               {Nest(0, {Attr(WGALLOWEDIP_A_FAMILY, Raw<uint16_t>(AF_INET6)),
                                         Attr(WGALLOWEDIP_A_IPADDR, Bytes{10, 0, 0, 0}),
                                         Attr(WGALLOWEDIP_A_CIDR_MASK, Raw<uint8_t>(8))})})})})),
       "address of family 10 with 4 bytes"},
  };
  for (const auto& [msg, why] : cases) {
    Device d;
    Status s = ParseDeviceMessage(msg.data(), msg.size(), d);
    if (why.empty()) {
      EXPECT_TRUE(s.ok()) << s.error().message();
      continue;
    }
    ASSERT_FALSE(s.ok()) << why;
    EXPECT_EQ(s.error().code(), Errc::kProtocol);
    EXPECT_NE(s.error().message().find(why), std::string::npos) << s.error().message();
  }
}

TEST(WgGenl, RefusesDevicesItCannotSendCorrectly) {
  Device d = SmallDevice();
  d.peers[1].public_key = d.peers[0].public_key;
  auto dup = BuildSetDevice(kFamily, d);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().message(), "wireguard device wg0: two peers with one public key");

  Device bad_name = SmallDevice();
  bad_name.name = "much-too-long-name";
  EXPECT_EQ(BuildSetDevice(kFamily, bad_name).error().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(BuildGetDevice(kFamily, "a/b").has_value());

  auto tiny = BuildSetDevice(kFamily, SmallDevice(), 64);
  ASSERT_FALSE(tiny.has_value());
  EXPECT_EQ(tiny.error().code(), Errc::kInvalidArgument);
}

TEST(WgGenl, DeviceFromConfigReplacesPeersAndAllowedIps) {
  WgQuickConfig c;
  c.interface.private_key = K(1);
  c.interface.listen_port = 0;
  WgPeer p;
  p.public_key = K(2);
  p.endpoint = Endpoint{"vpn.lab", 51820};
  p.allowed_ips = {Net("0.0.0.0/0")};
  c.peers.push_back(p);
  EXPECT_FALSE(DeviceFromConfig(c, "wg0", {}).has_value());
  auto d = DeviceFromConfig(c, "wg0", {SocketAddr{Ip("203.0.113.20"), 51820}});
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->replace_peers);
  ASSERT_EQ(d->peers.size(), 1u);
  EXPECT_TRUE(d->peers[0].replace_allowed_ips);
  EXPECT_EQ(d->peers[0].preshared_key, Key());  // none: the zero key clears it
  EXPECT_EQ(d->peers[0].endpoint->ToString(), "203.0.113.20:51820");
}

}  // namespace
}  // namespace qnet::vpn
