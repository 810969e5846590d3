// The vpn capability as the agent sees it: its section, the backend it
// chooses, the kill switch it installs (closed while an endpoint name does
// not resolve), the wireguard-go daemon it asks the init for; and the
// chain file's `backend` key.
#include "qnet/vpn/capability.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "qnet/nft/batch.h"
#include "qnet/vpn/config_key.h"

namespace qnet::vpn {
namespace {

constexpr const char* kPriv = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
constexpr const char* kPub = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

std::string WgFile(std::string_view endpoint = "203.0.113.20:51820") {
  return fmt::format(
      "[Interface]\nPrivateKey = {}\nAddress = 10.66.66.2/32\nDNS = 10.66.66.1\n"
      "[Peer]\nPublicKey = {}\nEndpoint = {}\nAllowedIPs = 0.0.0.0/0\n",
      kPriv, kPub, endpoint);
}

qube::AgentConfig VpnQube(std::optional<VpnSection> section) {
  qube::AgentConfig c;
  c.qube = "sys-vpn";
  c.role = qube::Role::kVpn;
  c.addr4 = *IpAddr::Parse("10.137.0.3");
  c.uplink = qube::Uplink{.ifname = "eth0",
                          .addr4 = *IpPrefix::Parse("10.137.0.3/32"),
                          .gateway4 = *IpAddr::Parse("10.137.0.2")};
  if (section) c.sections["vpn"] = VpnSectionToJson(*section);
  return c;
}

VpnSection Section(std::string text = WgFile(), BackendChoice b = BackendChoice::kAuto) {
  return {.source = "sys-vpn.conf", .wg_quick = std::move(text), .backend = b};
}

// The batch's operations as text, to look for the endpoint elements.
std::vector<std::string> Ops(const nft::Batch& b) {
  std::vector<std::string> out;
  for (const nft::Op& op : b.ops()) out.push_back(nft::OpDescription(op));
  return out;
}

TEST(VpnCapability, UserspaceWhenTheKernelHasNoWireguard_AsksForWireguardGoInItsOwnNetns) {
  VpnCapability cap({.qube = "sys-vpn"});
  auto c = VpnQube(Section());
  auto b = cap.Install(c);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_TRUE(b->status());
  // Nothing is asked for before the kill switch is in force.
  EXPECT_TRUE(cap.Daemons().empty());
  cap.Installed(c, false);
  EXPECT_EQ(cap.backend(), Backend::kUserspace);
  EXPECT_TRUE(cap.endpoints_resolved());
  auto d = cap.Daemons();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].name, "wireguard-go");
  EXPECT_EQ(d[0].argv, (std::vector<std::string>{"/usr/bin/wireguard-go", "-f", "wg0"}));
  EXPECT_TRUE(d[0].own_netns);
  EXPECT_EQ(d[0].uid, 0u);
  EXPECT_TRUE(qube::ValidateService(d[0]));
}

TEST(VpnCapability, KernelBackendWhenAvailable_RunsNoDaemon) {
  VpnCapability cap({.qube = "sys-vpn", .kernel_wireguard = true});
  auto c = VpnQube(Section());
  ASSERT_TRUE(cap.Install(c));
  cap.Installed(c, false);
  EXPECT_EQ(cap.backend(), Backend::kKernel);
  EXPECT_TRUE(cap.Daemons().empty());
  // Forced userspace wins over an available kernel.
  VpnCapability forced({.qube = "sys-vpn", .kernel_wireguard = true});
  auto cu = VpnQube(Section(WgFile(), BackendChoice::kUserspace));
  ASSERT_TRUE(forced.Install(cu));
  forced.Installed(cu, false);
  EXPECT_EQ(forced.backend(), Backend::kUserspace);
}

TEST(VpnCapability, RefusesWhatItCannotEnforce) {
  struct Case {
    std::optional<VpnSection> section;
    std::string error;
  } cases[] = {
      {std::nullopt,
       "vpn section: missing (the chain file's `wireguard` key names the vpn qube's config)"},
      {Section(WgFile(), BackendChoice::kKernel),
       "vpn: backend = \"kernel\": this kernel has no WireGuard (use \"userspace\" or leave the "
       "key out)"},
      {Section("[Interface]\nPostUp = iptables -F\n"), "sys-vpn.conf:2: PostUp:"},
  };
  for (const auto& c : cases) {
    VpnCapability cap({.qube = "sys-vpn"});
    auto b = cap.Install(VpnQube(c.section));
    ASSERT_FALSE(b) << c.error;
    EXPECT_EQ(b.error().message().substr(0, c.error.size()), c.error);
    EXPECT_TRUE(cap.Daemons().empty());
  }
}

TEST(VpnCapability, AnUnresolvedEndpointNameKeepsTheKillSwitchClosed) {
  int calls = 0;
  std::vector<IpAddr> answer;
  VpnCapability cap({.qube = "sys-vpn", .resolve = [&](const std::string& host) {
                       ++calls;
                       EXPECT_EQ(host, "vpn.lab.test");
                       return answer;
                     }});
  auto c = VpnQube(Section(WgFile("vpn.lab.test:51820")));
  auto closed = cap.Install(c);
  ASSERT_TRUE(closed) << closed.error().message();
  cap.Installed(c, false);
  EXPECT_FALSE(cap.endpoints_resolved());
  EXPECT_EQ(calls, 1);
  // Resolved: the endpoint set gets the address (one element more).
  answer = {*IpAddr::Parse("203.0.113.20")};
  auto open = cap.Install(c);
  ASSERT_TRUE(open);
  cap.Installed(c, false);
  EXPECT_TRUE(cap.endpoints_resolved());
  auto closed_ops = Ops(*closed), open_ops = Ops(*open);
  EXPECT_GT(open_ops.size(), closed_ops.size());
  // InstallClosed never lets an endpoint out, resolved or not.
  auto shut = cap.InstallClosed(c);
  ASSERT_TRUE(shut);
  EXPECT_EQ(Ops(*shut).size(), closed_ops.size());
}

TEST(VpnSection, RoundTripsAndNamesBadFields) {
  VpnSection s = Section(WgFile(), BackendChoice::kUserspace);
  auto back = VpnSectionFromJson(VpnSectionToJson(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
  auto bad = VpnSectionFromJson(R"({"source":"x","wg_quick":"y","backend":"fast"})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "vpn section: backend: unknown backend \"fast\" (expected \"kernel\" or "
            "\"userspace\"; without the key: automatic)");
  EXPECT_FALSE(VpnSectionFromJson(R"({"source":"x"})"));
}

TEST(VpnBackendKey, AcceptsKernelOrUserspaceOnlyInVpnQubes) {
  config::KeyRule rule = BackendKeyRule();
  EXPECT_TRUE(rule.AllowsRole(qube::Role::kVpn));
  EXPECT_FALSE(rule.AllowsRole(qube::Role::kFirewall));
  EXPECT_TRUE(ValidateBackendKey(config::Value::String("kernel"), {}));
  EXPECT_TRUE(ValidateBackendKey(config::Value::String("userspace"), {}));
  auto bad = ValidateBackendKey(config::Value::String("auto"), {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "expected \"kernel\" or \"userspace\" (leave it out for automatic), got \"auto\"");
}

}  // namespace
}  // namespace qnet::vpn
