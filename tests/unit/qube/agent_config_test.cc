#include "qnet/qube/agent_config.h"

#include <gtest/gtest.h>

namespace qnet::qube {
namespace {

AgentConfig Sample() {
  AgentConfig c;
  c.qube = "sys-firewall";
  c.role = Role::kFirewall;
  c.addr4 = *IpAddr::Parse("10.137.0.2");
  c.uplink = Uplink{.ifname = "eth0",
                    .addr4 = *IpPrefix::Parse("10.137.0.2/32"),
                    .gateway4 = *IpAddr::Parse("10.137.0.1"),
                    .gateway_mac = kVifMac};
  c.clients.push_back(
      {.name = "work", .id = 3, .vif = "vif3.0", .addr4 = *IpAddr::Parse("10.137.0.3")});
  c.dns_upstream = {*IpAddr::Parse("10.139.1.1"), *IpAddr::Parse("10.139.1.2")};
  c.nameservers = c.dns_upstream;
  c.sections["firewall"] = R"({"clients":{"work":["drop"]}})";
  return c;
}

TEST(AgentConfig, JsonRoundTripKeepsEveryField) {
  AgentConfig c = Sample();
  auto back = AgentConfigFromJson(ToJson(c));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->qube, "sys-firewall");
  EXPECT_EQ(back->role, Role::kFirewall);
  EXPECT_EQ(back->uplink->gateway4.ToString(), "10.137.0.1");
  EXPECT_EQ(*back->uplink->gateway_mac, kVifMac);
  ASSERT_EQ(back->clients.size(), 1u);
  EXPECT_EQ(back->clients[0].vif, "vif3.0");
  EXPECT_EQ(back->clients[0].id, 3u);
  EXPECT_EQ(back->FindClient("work"), &back->clients[0]);
  EXPECT_EQ(back->FindClient("p"), nullptr);
  EXPECT_EQ(back->dns_upstream.size(), 2u);
  EXPECT_FALSE(back->addr6.has_value());
  // A section travels as the JSON its capability wrote, untouched.
  EXPECT_EQ(back->sections, c.sections);
}

TEST(AgentConfig, BadInputNamesTheField) {
  struct Case {
    std::string json, error;
  } cases[] = {
      {"[]", "config: not a JSON object"},
      {"{", "config: not a JSON object"},
      {R"({"role":"app"})", "config.qube: missing"},
      {R"({"qube":"a","role":"proxy"})",
       "config.role: unknown role 'proxy' (valid: net, firewall, vpn, tor, app)"},
      {R"({"qube":"a","role":"app","ipv6":"no"})", "config.ipv6: expected a boolean"},
      {R"({"qube":"a","role":"app","ipv6":false,"addr4":"10.1.2"})",
       "config.addr4: '10.1.2' is not an IP address"},
      {R"({"qube":"a","role":"app","ipv6":false,"addr4":"10.1.2.3","clients":[{"name":"x"}]})",
       "config.clients[0].vif: missing"},
      {R"({"qube":"a","role":"app","ipv6":false,"addr4":"10.1.2.3","nameservers":[1]})",
       "config.nameservers[0]: expected a string"},
      {R"({"qube":"a","role":"app","ipv6":false,"addr4":"10.1.2.3","sections":[]})",
       "config.sections: expected an object"},
  };
  for (const auto& c : cases) {
    auto r = AgentConfigFromJson(c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error().message(), c.error) << c.json;
  }
}

}  // namespace
}  // namespace qnet::qube
