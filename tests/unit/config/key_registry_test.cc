// Role keys belong to the role modules: config only dispatches to them.
#include "qnet/config/key_registry.h"

#include <gtest/gtest.h>

#include "qnet/config/chain_file.h"
#include "test_registry.h"

namespace qnet::config {
namespace {

constexpr char kChain[] = R"([chain]
name = "reg"
[qube.sys-net]
role = "net"
label = "red"
[qube.sys-vpn]
role = "vpn"
label = "orange"
netvm = "sys-net"
wireguard = "lab"
)";

TEST(KeyRegistry, UnregisteredRoleKeyIsRefused) {
  KeyRegistry empty;
  auto spec = ParseChainText(kChain, "reg.toml", empty);
  ASSERT_FALSE(spec.has_value());
  EXPECT_EQ(spec.error().message(),
            "reg.toml:10:1: qube.sys-vpn.wireguard: unknown key 'wireguard' (known: role, label, "
            "id, netvm, template, dispvm)");
}

TEST(KeyRegistry, RegisteredKeyIsKeptWithItsPosition) {
  auto spec = ParseChainText(kChain, "reg.toml", testing::TestRegistry());
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  const QubeSpec* vpn = spec->FindQube("sys-vpn");
  ASSERT_EQ(vpn->extra.size(), 1u);
  EXPECT_EQ(vpn->extra[0].key, "wireguard");
  EXPECT_EQ(vpn->extra[0].key_pos.ToString(), "reg.toml:10:1");
  EXPECT_EQ(vpn->extra[0].value.pos().ToString(), "reg.toml:10:13");
}

TEST(KeyRegistry, ValidatorSeesTheValueAndItsErrorIsReportedAtTheKey) {
  KeyRegistry registry;
  SourcePos seen_key_pos;
  std::string seen_value;
  ASSERT_TRUE(registry
                  .Add(KeyRule{.key = "wireguard",
                               .roles = {qube::Role::kVpn},
                               .validate = [&](const Value& v, const SourcePos& key_pos) -> Status {
                                 seen_key_pos = key_pos;
                                 seen_value = v.as_string();
                                 return Fail(Errc::kInvalidArgument, "no such wg-quick file 'lab'");
                               }})
                  .ok());
  auto spec = ParseChainText(kChain, "reg.toml", registry);
  ASSERT_FALSE(spec.has_value());
  EXPECT_EQ(spec.error().message(),
            "reg.toml:10:1: qube.sys-vpn.wireguard: no such wg-quick file 'lab'");
  EXPECT_EQ(seen_value, "lab");
  EXPECT_EQ(seen_key_pos.ToString(), "reg.toml:10:1");
}

TEST(KeyRegistry, KeyBeforeRoleIsStillCheckedAgainstTheRole) {
  constexpr char kText[] = R"([chain]
name = "reg"
[qube.sys-net]
wireguard = "lab"
role = "net"
label = "red"
)";
  auto spec = ParseChainText(kText, "reg.toml", testing::TestRegistry());
  ASSERT_FALSE(spec.has_value());
  EXPECT_EQ(spec.error().message(),
            "reg.toml:4:1: qube.sys-net.wireguard: key 'wireguard' is not allowed for a qube of "
            "role net (allowed: vpn)");
}

TEST(KeyRegistry, Add_RefusesCoreDuplicateAndMalformedKeys) {
  KeyRegistry registry;
  EXPECT_TRUE(registry.Add(KeyRule{.key = "firewall", .any_networked = true}).ok());
  Status dup = registry.Add(KeyRule{.key = "firewall", .any_networked = true});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), Errc::kAlreadyExists);
  Status core = registry.Add(KeyRule{.key = "netvm", .any_networked = true});
  ASSERT_FALSE(core.ok());
  EXPECT_EQ(core.error().message(), "key registry: 'netvm' is a core key and cannot be registered");
  EXPECT_FALSE(registry.Add(KeyRule{.key = "a.b", .any_networked = true}).ok());
  EXPECT_FALSE(registry.Add(KeyRule{.key = "nobody"}).ok());
  ASSERT_NE(registry.Find("firewall"), nullptr);
  EXPECT_EQ(registry.Find("wireguard"), nullptr);
}

TEST(KeyRegistry, AllowsRole) {
  KeyRule any{.key = "firewall", .any_networked = true};
  EXPECT_TRUE(any.AllowsRole(qube::Role::kApp));
  EXPECT_TRUE(any.AllowsRole(qube::Role::kTor));
  EXPECT_FALSE(any.AllowsRole(qube::Role::kNet));
  KeyRule some{.key = "x", .roles = {qube::Role::kApp, qube::Role::kVpn}};
  EXPECT_TRUE(some.AllowsRole(qube::Role::kVpn));
  EXPECT_FALSE(some.AllowsRole(qube::Role::kTor));
  EXPECT_EQ(some.AllowedDescription(), "vpn, app");
}

}  // namespace
}  // namespace qnet::config
