#include "qnet/vpn/wg_quick.h"

#include <gtest/gtest.h>

namespace qnet::vpn {
namespace {

constexpr std::string_view kPriv = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
constexpr std::string_view kPub = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
constexpr std::string_view kPsk = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=";
constexpr std::string_view kPub2 = "BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ=";

IpAddr Ip(std::string_view s) { return *IpAddr::Parse(s); }
IpPrefix Net(std::string_view s) { return *IpPrefix::Parse(s); }

// As a provider ships it (Mullvad's layout), with the quirks wg-quick
// accepts: odd key case, comments, tabs, CRLF, a repeated Address.
std::string ProviderFile() {
  return fmt::format(
      "# Mullvad-style config\r\n"
      "[Interface]\r\n"
      "PrivateKey = {}\r\n"
      "Address = 10.64.0.2/32,fc00:bbbb:bbbb:bb01::2/128\r\n"
      "address=10.64.0.3\r\n"
      "DNS = 10.64.0.1  lab.example # resolver and a search domain\r\n"
      "\r\n"
      "[peer]\r\n"
      "PUBLICKEY\t=\t{}\r\n"
      "PresharedKey = {}\r\n"
      "AllowedIPs = 0.0.0.0/0, ::/0\r\n"
      "Endpoint = 203.0.113.20 : 51820\r\n"
      "PersistentKeepalive = 25\r\n",
      kPriv, kPub, kPsk);
}

TEST(WgQuick, ParsesAProviderFileAsWgQuickDoes) {
  auto c = ParseWgQuick(ProviderFile(), "mullvad.conf");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->interface.private_key, *Key::FromBase64(kPriv));
  EXPECT_EQ(c->interface.addresses,
            (std::vector<IpPrefix>{Net("10.64.0.2/32"), Net("fc00:bbbb:bbbb:bb01::2/128"),
                                   Net("10.64.0.3/32")}));
  EXPECT_EQ(c->interface.dns, std::vector<IpAddr>{Ip("10.64.0.1")});
  EXPECT_EQ(c->interface.dns_search, std::vector<std::string>{"lab.example"});
  EXPECT_FALSE(c->interface.mtu.has_value());
  ASSERT_EQ(c->peers.size(), 1u);
  const WgPeer& p = c->peers[0];
  EXPECT_EQ(p.public_key, *Key::FromBase64(kPub));
  EXPECT_EQ(p.preshared_key, *Key::FromBase64(kPsk));
  EXPECT_EQ(p.endpoint, (Endpoint{"203.0.113.20", 51820}));
  EXPECT_EQ(p.endpoint.Address(), Ip("203.0.113.20"));
  EXPECT_EQ(p.allowed_ips, (std::vector<IpPrefix>{Net("0.0.0.0/0"), Net("::/0")}));
  EXPECT_EQ(p.persistent_keepalive, 25);
}

TEST(WgQuick, ParsesEveryOptionalKeyAndSeveralPeers) {
  const std::string text = fmt::format(
      "[Interface]\nPrivateKey={}\nMTU=1420\nListenPort=0\nFwMark=0x51820\n"
      "[Peer]\nPublicKey={}\nEndpoint=[2001:db8:2::20]:51820\nAllowedIPs=10.0.0.0/8\n"
      "AllowedIPs=fd00::/8\nPersistentKeepalive=off\n"
      "[Peer]\nPublicKey={}\nEndpoint=vpn.lab:443\n",
      kPriv, kPub, kPub2);
  auto c = ParseWgQuick(text, "wg0.conf");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->interface.mtu, 1420u);
  EXPECT_EQ(c->interface.listen_port, 0);
  EXPECT_EQ(c->interface.fwmark, 0x51820u);
  ASSERT_EQ(c->peers.size(), 2u);
  EXPECT_EQ(c->peers[0].endpoint, (Endpoint{"2001:db8:2::20", 51820}));
  EXPECT_EQ(c->peers[0].endpoint.ToString(), "[2001:db8:2::20]:51820");
  EXPECT_EQ(c->peers[0].allowed_ips, (std::vector<IpPrefix>{Net("10.0.0.0/8"), Net("fd00::/8")}));
  EXPECT_EQ(c->peers[0].persistent_keepalive, 0);
  EXPECT_EQ(c->peers[1].endpoint, (Endpoint{"vpn.lab", 443}));
  EXPECT_FALSE(c->peers[1].endpoint.Address().has_value());
  EXPECT_TRUE(c->peers[1].allowed_ips.empty());
}

TEST(WgQuick, RoundTripsThroughItsOwnText) {
  for (const std::string& text :
       {ProviderFile(),
        fmt::format("[Interface]\nPrivateKey={}\nMTU=1280\nListenPort=51000\nFwMark=off\n"
                    "[Peer]\nPublicKey={}\nEndpoint=[fd00::1]:1\nPersistentKeepalive=0\n"
                    "[Peer]\nPublicKey={}\nEndpoint=a-b_c.example:65535\nAllowedIPs=1.2.3.4\n",
                    kPriv, kPub, kPub2)}) {
    auto first = ParseWgQuick(text, "a.conf");
    ASSERT_TRUE(first.has_value()) << first.error().message();
    const std::string written = FormatWgQuick(*first);
    auto second = ParseWgQuick(written, "b.conf");
    ASSERT_TRUE(second.has_value()) << second.error().message() << "\n" << written;
    EXPECT_EQ(*second, *first) << written;
    EXPECT_EQ(FormatWgQuick(*second), written);
  }
}

TEST(WgQuick, WritesTheCanonicalLayout) {
  auto c = ParseWgQuick(ProviderFile(), "m.conf");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(FormatWgQuick(*c),
            fmt::format("[Interface]\n"
                        "PrivateKey = {}\n"
                        "Address = 10.64.0.2/32, fc00:bbbb:bbbb:bb01::2/128, 10.64.0.3/32\n"
                        "DNS = 10.64.0.1, lab.example\n"
                        "\n[Peer]\n"
                        "PublicKey = {}\n"
                        "PresharedKey = {}\n"
                        "Endpoint = 203.0.113.20:51820\n"
                        "AllowedIPs = 0.0.0.0/0, ::/0\n"
                        "PersistentKeepalive = 25\n",
                        kPriv, kPub, kPsk));
}

// Each bad file and the exact error a user sees.
TEST(WgQuick, RefusesBadFilesWithExactErrors) {
  const std::string iface = fmt::format("[Interface]\nPrivateKey = {}\n", kPriv);
  const std::string peer =
      fmt::format("[Peer]\nPublicKey = {}\nEndpoint = 203.0.113.20:51820\n", kPub);
  struct Case {
    std::string text;
    std::string error;
  };
  const std::string shell =
      "refused: qnet never runs shell commands from a config (the vpn qube sets up its own "
      "addresses, routes, DNS and kill switch)";
  const Case cases[] = {
      {"", "wg0.conf: no [Interface] section"},
      {"# only a comment\n", "wg0.conf: no [Interface] section"},
      {iface, "wg0.conf: no [Peer] section (the tunnel needs a server)"},
      {"[Interface]\nAddress = 10.0.0.2\n" + peer, "wg0.conf:1: [Interface] has no PrivateKey"},
      {iface + "[Peer]\nEndpoint = 203.0.113.20:51820\n", "wg0.conf:3: [Peer] has no PublicKey"},
      {iface + fmt::format("[Peer]\nPublicKey = {}\n", kPub),
       "wg0.conf:3: [Peer] has no Endpoint (the vpn qube only connects out: a peer it cannot "
       "reach carries nothing)"},
      {"PrivateKey = x\n", "wg0.conf:1: PrivateKey: before any [Interface] or [Peer] section"},
      {"[Interfaces]\n",
       "wg0.conf:1: unknown section `[Interfaces]` (expected [Interface] or [Peer])"},
      {iface + "Addres = 10.0.0.2\n", "wg0.conf:3: unknown key `Addres`"},
      {"[Interface]\n" + std::string(kPsk) + "\n",
       "wg0.conf:2: unknown key (43 characters, not shown)"},
      {iface + "just words\n", "wg0.conf:3: expected `Key = Value` or a [Section]"},
      {iface + "PostUp = iptables -A OUTPUT -j ACCEPT\n", "wg0.conf:3: PostUp: " + shell},
      {iface + "preup = true\n", "wg0.conf:3: PreUp: " + shell},
      {iface + "PreDown = x\n", "wg0.conf:3: PreDown: " + shell},
      {iface + "PostDown = x\n", "wg0.conf:3: PostDown: " + shell},
      {iface + "SaveConfig = true\n",
       "wg0.conf:3: SaveConfig: refused: qnet never writes a config file back"},
      {iface + "Table = off\n",
       "wg0.conf:3: Table: refused: qnet routes the tunnel itself (everything from the vpn "
       "qube's clients goes through it)"},
      {"[Interface]\nPrivateKey = AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ\n",
       "wg0.conf:2: PrivateKey: not a WireGuard key: 42 characters (expected base64 of 32 "
       "bytes, 44 characters ending in '=')"},
      {"[Interface]\nPrivateKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
       "wg0.conf:2: PrivateKey: the all-zero key is not a key"},
      {iface + "Address = 10.0.0.300/32\n",
       "wg0.conf:3: Address: `10.0.0.300/32` is not an address (expected 10.64.0.2/32 or "
       "fd00::2/128)"},
      {iface + "DNS = 10.0.0.1, 1.2.3\n", "wg0.conf:3: DNS: `1.2.3` is not an IP address"},
      {iface + "DNS = bad/domain\n",
       "wg0.conf:3: DNS: `bad/domain` is neither an IP address nor a search domain"},
      {iface + "MTU = 100\n", "wg0.conf:3: MTU: `100` is not an MTU in 576..65535"},
      {iface + "MTU = 1420\nMTU = 1280\n", "wg0.conf:4: MTU: given twice (first at line 3)"},
      {iface + "ListenPort = 65536\n",
       "wg0.conf:3: ListenPort: `65536` is not a port number in 0..65535"},
      {iface + "FwMark = on\n",
       "wg0.conf:3: FwMark: `on` is not \"off\" or a 32-bit mark (decimal or 0x hex)"},
      {iface + "FwMark = 0x100000000\n",
       "wg0.conf:3: FwMark: `0x100000000` is not \"off\" or a 32-bit mark (decimal or 0x hex)"},
      {iface + "Endpoint = 203.0.113.20:51820\n",
       "wg0.conf:3: Endpoint: belongs in [Peer], not [Interface]"},
      {iface + peer + "DNS = 1.1.1.1\n", "wg0.conf:6: DNS: belongs in [Interface], not [Peer]"},
      {iface + peer + "Endpoint = 203.0.113.21:51820\n",
       "wg0.conf:6: Endpoint: given twice (first at line 5)"},
      {iface + "[Peer]\nPublicKey = " + std::string(kPub) + "\nEndpoint = 203.0.113.20\n",
       "wg0.conf:5: Endpoint: no port (expected host:port)"},
      {iface + "[Peer]\nEndpoint = 203.0.113.20:0\n",
       "wg0.conf:4: Endpoint: port `0` is not a number in 1..65535"},
      {iface + "[Peer]\nEndpoint = vpn.lab:https\n",
       "wg0.conf:4: Endpoint: port `https` is not a number in 1..65535"},
      {iface + "[Peer]\nEndpoint = 2001:db8::1:51820\n",
       "wg0.conf:4: Endpoint: an IPv6 address needs brackets (expected [address]:port)"},
      {iface + "[Peer]\nEndpoint = [203.0.113.20]:51820\n",
       "wg0.conf:4: Endpoint: `203.0.113.20` in brackets is not an IPv6 address"},
      {iface + "[Peer]\nEndpoint = [2001:db8::1]51820\n",
       "wg0.conf:4: Endpoint: no port (expected [address]:port)"},
      {iface + "[Peer]\nEndpoint = vpn$lab:1\n",
       "wg0.conf:4: Endpoint: the host is neither an IPv4 address nor a host name (letters, "
       "digits, '-', '.', '_')"},
      {iface + "[Peer]\nAllowedIPs = 10.0.0.0/8,,::/0\n",
       "wg0.conf:4: AllowedIPs: `` is not an address or prefix (expected 0.0.0.0/0, ::/0, ...)"},
      {iface + "[Peer]\nAllowedIPs = 10.0.0.0/33\n",
       "wg0.conf:4: AllowedIPs: `10.0.0.0/33` is not an address or prefix (expected 0.0.0.0/0, "
       "::/0, ...)"},
      {iface + "[Peer]\nPersistentKeepalive = 65536\n",
       "wg0.conf:4: PersistentKeepalive: `65536` is not \"off\" or seconds in 0..65535"},
      {iface + peer + fmt::format("[Peer]\nPublicKey = {}\nEndpoint = 203.0.113.21:1\n", kPub),
       "wg0.conf:7: PublicKey: the same peer as the [Peer] at line 3"},
  };
  for (const Case& c : cases) {
    auto r = ParseWgQuick(c.text, "wg0.conf");
    ASSERT_FALSE(r.has_value()) << c.text;
    EXPECT_EQ(r.error().message(), c.error) << c.text;
    EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  }
}

TEST(WgQuick, ErrorsNeverQuoteAKey) {
  // A key pasted on a line of its own, and one in the wrong place: the
  // message names the line, never the secret.
  const std::string secret(kPsk);
  for (const std::string& text :
       {fmt::format("[Interface]\n{}\n", secret), fmt::format("[Interface]\n{}x = 1\n", secret),
        fmt::format("[Interface]\nDNS = {}\n", secret),
        fmt::format("[Interface]\nPrivateKey = {}\nPrivateKey = {}\n", secret, secret),
        fmt::format("[Interface]\nPrivateKey = {}!\n", secret)}) {
    auto r = ParseWgQuick(text, "leak.conf");
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().message().find(secret.substr(0, 6)), std::string::npos)
        << r.error().message();
  }
}

}  // namespace
}  // namespace qnet::vpn
