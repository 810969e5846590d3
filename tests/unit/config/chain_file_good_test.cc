#include <gtest/gtest.h>

#include "qnet/config/chain_file.h"
#include "qnet/qube/address.h"
#include "test_registry.h"

namespace qnet::config {
namespace {

const std::string kData = QNET_CONFIG_TEST_DATA;

TEST(ChainFile, ParsesTheDesignExample) {
  auto spec = ParseChainFile(kData + "/design_example.toml", testing::TestRegistry());
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_EQ(spec->name, "vpn-before-tor");
  EXPECT_EQ(spec->ipv6, Ipv6Mode::kOff);
  ASSERT_TRUE(spec->lab.has_value());
  EXPECT_EQ(spec->source_path, kData + "/design_example.toml");

  struct Want {
    const char* name;
    qube::Role role;
    qube::Label label;
    const char* netvm;  // "" for none
    uint32_t id;
  };
  const Want kWant[] = {
      {"sys-net", qube::Role::kNet, qube::Label::kRed, "", 1},
      {"sys-firewall", qube::Role::kFirewall, qube::Label::kGreen, "sys-net", 2},
      {"sys-vpn", qube::Role::kVpn, qube::Label::kOrange, "sys-firewall", 3},
      {"sys-whonix", qube::Role::kTor, qube::Label::kBlack, "sys-vpn", 4},
      {"anon-ws", qube::Role::kApp, qube::Label::kRed, "sys-whonix", 5},
  };
  ASSERT_EQ(spec->qubes.size(), std::size(kWant));
  for (size_t i = 0; i < std::size(kWant); ++i) {
    const QubeSpec& q = spec->qubes[i];
    SCOPED_TRACE(q.name);
    EXPECT_EQ(q.name, kWant[i].name);
    EXPECT_EQ(q.role, kWant[i].role);
    EXPECT_EQ(q.label, kWant[i].label);
    EXPECT_EQ(q.netvm.value_or(""), kWant[i].netvm);
    EXPECT_EQ(q.id, kWant[i].id);
    EXPECT_FALSE(q.id_explicit);
  }
  const Value* wg = spec->qubes[2].FindExtra("wireguard");
  ASSERT_NE(wg, nullptr);
  EXPECT_EQ(wg->as_string(), "lab");
  EXPECT_EQ(wg->pos().line, 20);
  EXPECT_EQ(wg->pos().col, 13);
  const Value* fw = spec->qubes[4].FindExtra("firewall");
  ASSERT_NE(fw, nullptr);
  EXPECT_EQ(*fw, Value::MakeArray({Value::String("accept")}));
  EXPECT_EQ(spec->qubes[4].pos.line, 27);
}

TEST(ChainFile, ParsesBasicChainInFileOrder) {
  auto spec = ParseChainFile(kData + "/basic.toml", testing::TestRegistry());
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_EQ(spec->name, "basic");
  EXPECT_TRUE(spec->lab.has_value());
  ASSERT_EQ(spec->qubes.size(), 3u);
  EXPECT_EQ(spec->qubes[0].name, "work");
  EXPECT_EQ(spec->qubes[0].label, qube::Label::kBlue);
  EXPECT_EQ(spec->qubes[0].id, 1u);
  EXPECT_EQ(spec->qubes[1].name, "sys-firewall");
  EXPECT_EQ(spec->qubes[2].name, "sys-net");
  EXPECT_EQ(qube::Ipv4ForId(spec->qubes[2].id).value().ToString(), "10.137.0.3");
  EXPECT_EQ(spec->qubes[0].netvm_pos.ToString(), kData + "/basic.toml:10:9");
}

TEST(ChainFile, AssignsLowestFreeIdsAroundExplicitOnes) {
  constexpr char kText[] = R"(
[chain]
name = "ids"
ipv6 = "routed"
[qube.a]
role = "net"
label = "red"
id = 2
[qube.b]
role = "firewall"
label = "green"
netvm = "a"
[qube.c]
role = "app"
label = "gray"
netvm = "b"
id = 300
[qube.d]
role = "app"
label = "gray"
netvm = "b"
)";
  auto spec = ParseChainText(kText, "ids.toml", testing::TestRegistry());
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_EQ(spec->ipv6, Ipv6Mode::kRouted);
  EXPECT_FALSE(spec->lab.has_value());
  EXPECT_EQ(spec->FindQube("a")->id, 2u);
  EXPECT_TRUE(spec->FindQube("a")->id_explicit);
  EXPECT_EQ(spec->FindQube("b")->id, 1u);
  EXPECT_FALSE(spec->FindQube("b")->id_explicit);
  EXPECT_EQ(spec->FindQube("c")->id, 300u);
  EXPECT_EQ(spec->FindQube("d")->id, 3u);
}

TEST(ChainFile, AcceptsQuotedQubeNamesAndDottedKeys) {
  constexpr char kText[] = R"(
chain.name = "dots"
[qube."net.1"]
role = "net"
label = "red"
[qube.work]
role = "app"
label = "blue"
netvm = "net.1"
)";
  auto spec = ParseChainText(kText, "dots.toml", testing::TestRegistry());
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_EQ(spec->qubes[0].name, "net.1");
  EXPECT_EQ(spec->qubes[1].netvm, "net.1");
}

TEST(ChainFile, DispvmAndTemplateNameAreKeptAndRoundTrip) {
  constexpr char kText[] = R"(
[chain]
name = "disp"
[qube.sys-net]
role = "net"
label = "red"
[qube.sys-firewall]
role = "firewall"
label = "green"
netvm = "sys-net"
dispvm = true
template = "debian-12"
[qube.work]
role = "app"
label = "blue"
netvm = "sys-firewall"
dispvm = false
template = "/srv/trees/deb"
)";
  auto spec = ParseChainText(kText, "disp.toml", testing::TestRegistry());
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_TRUE(spec->FindQube("sys-firewall")->dispvm);
  EXPECT_EQ(spec->FindQube("sys-firewall")->template_dir, "debian-12");
  EXPECT_FALSE(spec->FindQube("work")->dispvm);
  EXPECT_FALSE(spec->FindQube("sys-net")->dispvm);
  EXPECT_EQ(spec->FindQube("work")->template_dir, "/srv/trees/deb");
  auto again = ParseChainText(FormatChainFile(*spec), "again.toml", testing::TestRegistry());
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(*again, *spec);
}

TEST(ChainFile, UnreadableFileIsAnError) {
  auto spec = ParseChainFile(kData + "/does-not-exist.toml", testing::TestRegistry());
  ASSERT_FALSE(spec.has_value());
  EXPECT_NE(spec.error().message().find("does-not-exist.toml"), std::string::npos)
      << spec.error().message();
}

}  // namespace
}  // namespace qnet::config
