#include "qnet/tor/torrc.h"

#include <gtest/gtest.h>

#include <string>

#include "qnet/config/value.h"
#include "qnet/tor/config_key.h"

namespace qnet::tor {
namespace {

using config::Value;

constexpr char kFp[] = "0123456789ABCDEF0123456789ABCDEF01234567";

GatewayTorConfig Gateway() {
  GatewayTorConfig c;
  c.data_directory = "/var/lib/tor";
  c.user = "debian-tor";
  c.gateway_address = *IpAddr::Parse("10.137.0.5");
  c.control_socket = "/run/tor/control";
  return c;
}

TEST(RenderTorrc, GatewayHasIsolatedPortsOnTheGatewayAddressAndACookieControlSocket) {
  auto text = RenderTorrc(Gateway());
  ASSERT_TRUE(text.has_value()) << text.error().message();
  EXPECT_EQ(*text,
            "# Rendered by qnet from typed values; edits are overwritten.\n"
            "DataDirectory /var/lib/tor\n"
            "User debian-tor\n"
            "Log notice stderr\n"
            "RunAsDaemon 0\n"
            "AvoidDiskWrites 1\n"
            "SocksPort 10.137.0.5:9050 IsolateClientAddr IsolateSOCKSAuth IsolateDestAddr "
            "IsolateDestPort\n"
            "TransPort 10.137.0.5:9040 IsolateClientAddr IsolateDestAddr IsolateDestPort\n"
            "DNSPort 10.137.0.5:5300 IsolateClientAddr IsolateDestPort\n"
            "VirtualAddrNetworkIPv4 10.192.0.0/10\n"
            "AutomapHostsOnResolve 1\n"
            "ControlSocket /run/tor/control\n"
            "ControlPort 0\n"
            "CookieAuthentication 1\n");
}

TEST(RenderTorrc, AllowListedOptionsRenderFromParsedValues) {
  GatewayTorConfig c = Gateway();
  c.options.use_bridges = true;
  c.options.transport_plugins = {Transport::kObfs4};
  c.options.bridges = {
      *ParseBridge(fmt::format("obfs4  198.51.100.7:443 {} cert=ab+/= iat-mode=0", kFp)),
      *ParseBridge("[2001:db8::7]:9001")};
  c.options.exit_nodes = {*ParseNodeSpec("{DE}"), *ParseNodeSpec(fmt::format("${}", kFp))};
  c.options.exclude_nodes = {*ParseNodeSpec("198.51.100.77/24"), *ParseNodeSpec("BadRelay")};
  c.options.strict_nodes = true;
  c.options.client_use_ipv6 = false;
  c.log_file = "/var/log/tor.log";
  auto text = RenderTorrc(c);
  ASSERT_TRUE(text.has_value()) << text.error().message();
  EXPECT_NE(text->find("Log notice file /var/log/tor.log\n"), std::string::npos);
  EXPECT_NE(text->find("ClientTransportPlugin obfs4 exec /usr/bin/obfs4proxy\n"),
            std::string::npos);
  EXPECT_NE(
      text->find(fmt::format("Bridge obfs4 198.51.100.7:443 {} cert=ab+/= iat-mode=0\n", kFp)),
      std::string::npos);
  EXPECT_NE(text->find("Bridge [2001:db8::7]:9001\n"), std::string::npos);
  EXPECT_NE(text->find("UseBridges 1\n"), std::string::npos);
  EXPECT_NE(text->find(fmt::format("ExitNodes {{de}},${}\n", kFp)), std::string::npos);
  EXPECT_NE(text->find("ExcludeNodes 198.51.100.0/24,BadRelay\n"), std::string::npos);
  EXPECT_NE(text->find("StrictNodes 1\nClientUseIPv6 0\n"), std::string::npos);
}

TEST(RenderTorrc, RefusesEachBadField) {
  struct Case {
    const char* name;
    std::function<void(GatewayTorConfig&)> edit;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"relative DataDirectory", [](auto& c) { c.data_directory = "tor"; }, "DataDirectory"},
      {"newline in DataDirectory", [](auto& c) { c.data_directory = "/x\nControlPort 9051"; },
       "DataDirectory"},
      {"space in ControlSocket", [](auto& c) { c.control_socket = "/run/a b"; }, "ControlSocket"},
      {"bad user", [](auto& c) { c.user = "root\nUser x"; }, "User"},
      {"same ports", [](auto& c) { c.dns_port = c.trans_port; }, "ports must differ"},
      {"port 0", [](auto& c) { c.socks_port = 0; }, "port 0"},
      {"v6 virtual net", [](auto& c) { c.virtual_network = *IpPrefix::Parse("fd00::/64"); },
       "VirtualAddrNetworkIPv4"},
      {"bridges without bridge", [](auto& c) { c.options.use_bridges = true; }, "UseBridges"},
      {"obfs4 without plugin",
       [](auto& c) { c.options.bridges = {*ParseBridge("obfs4 198.51.100.7:443")}; },
       "needs ClientTransportPlugin obfs4"},
  };
  for (const Case& k : cases) {
    GatewayTorConfig c = Gateway();
    k.edit(c);
    auto text = RenderTorrc(c);
    ASSERT_FALSE(text.has_value()) << k.name;
    EXPECT_EQ(text.error().code(), Errc::kInvalidArgument) << k.name;
    EXPECT_NE(text.error().message().find(k.message), std::string::npos)
        << k.name << ": " << text.error().message();
  }
}

TEST(ParseBridge, RefusesInjectionAndMalformedLines) {
  for (std::string_view bad :
       {"", "obfs4", "meek 198.51.100.7:443", "198.51.100.7", "198.51.100.7:0",
        "198.51.100.7:65536", "host.example:443", "198.51.100.7:443 XYZ",
        "obfs4 198.51.100.7:443 cert=a\nUseBridges 0", "obfs4 198.51.100.7:443 cert=a\"b",
        "198.51.100.7:443 cert=abc", "[2001:db8::1:443"}) {
    EXPECT_FALSE(ParseBridge(bad).has_value()) << bad;
  }
}

TEST(ParseNodeSpec, AcceptsTheFourFormsAndNothingElse) {
  EXPECT_TRUE(std::holds_alternative<CountryCode>(*ParseNodeSpec("{nl}")));
  EXPECT_TRUE(std::holds_alternative<Fingerprint>(*ParseNodeSpec(fmt::format("${}", kFp))));
  EXPECT_TRUE(std::holds_alternative<Nickname>(*ParseNodeSpec("relay42")));
  EXPECT_TRUE(std::holds_alternative<IpPrefix>(*ParseNodeSpec("2001:db8::/32")));
  for (std::string_view bad :
       {"{nld}", "{n1}", "$abc", "twentycharsnicknamex", "a,b", "a b", "", "{de"})
    EXPECT_FALSE(ParseNodeSpec(bad).has_value()) << bad;
}

Value Table(std::vector<std::pair<std::string, Value>> members) {
  Value::Table t;
  for (auto& [k, v] : members) t.push_back(Value::Member{k, {"chain.toml", 3, 7}, std::move(v)});
  return Value::MakeTable(std::move(t));
}
Value Strs(std::vector<std::string> items) {
  Value::Array a;
  for (auto& s : items) a.push_back(Value::String(s, {"chain.toml", 4, 20}));
  return Value::MakeArray(std::move(a));
}

TEST(TorConfigKey, ParsesEveryAllowedOptionAndRoundTrips) {
  Value v = Table({{"UseBridges", Value::Boolean(true)},
                   {"ClientTransportPlugin", Strs({"obfs4"})},
                   {"Bridge", Strs({fmt::format("obfs4 198.51.100.7:443 {} cert=x", kFp)})},
                   {"EntryNodes", Strs({"Guard1"})},
                   {"ExitNodes", Strs({"{de}"})},
                   {"ExcludeNodes", Strs({"{us}", "203.0.113.0/24"})},
                   {"StrictNodes", Value::Boolean(true)},
                   {"ClientUseIPv6", Value::Boolean(false)}});
  auto o = TorOptionsFromValue(v);
  ASSERT_TRUE(o.has_value()) << o.error().message();
  EXPECT_TRUE(o->use_bridges);
  EXPECT_EQ(o->exclude_nodes.size(), 2u);
  EXPECT_EQ(o->client_use_ipv6, false);
  auto again = TorOptionsFromValue(TorOptionsToValue(*o));
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(*again, *o);
  EXPECT_TRUE(ValidateTorKey(v, {}).ok());
  EXPECT_TRUE(TorKeyRule().AllowsRole(qube::Role::kTor));
  EXPECT_FALSE(TorKeyRule().AllowsRole(qube::Role::kVpn));
}

TEST(TorConfigKey, RefusesEachBadOptionAtItsKeyWithAMessage) {
  struct Case {
    Value value;
    const char* message;
  };
  const std::vector<Case> cases = {
      {Value::String("UseBridges 1"), "expected a table of Tor options"},
      {Table({{"ControlPort", Value::Integer(9051)}}),
       "line 3 col 7: ControlPort: not an option qnet lets a chain file set (allowed: UseBridges"},
      {Table({{"UseBridges", Value::String("yes")}}), "UseBridges: expected a boolean"},
      {Table({{"ExitNodes", Value::String("{de}")}}), "ExitNodes: expected an array of strings"},
      {Table({{"ExitNodes", Strs({"{de}", "{xyz}"})}}),
       "line 4 col 20: ExitNodes[1]: node '{xyz}'"},
      {Table({{"Bridge", Strs({"198.51.100.7"})}}),
       "Bridge[0]: bridge: '198.51.100.7': want address:port"},
      {Table({{"ClientTransportPlugin", Strs({"meek"})}}), "transport 'meek' is not supported"},
      {Table({{"UseBridges", Value::Boolean(true)}}), "UseBridges: true but no Bridge given"},
  };
  for (const Case& c : cases) {
    auto r = TorOptionsFromValue(c.value);
    ASSERT_FALSE(r.has_value()) << c.message;
    EXPECT_NE(r.error().message().find(c.message), std::string::npos) << r.error().message();
  }
}

}  // namespace
}  // namespace qnet::tor
