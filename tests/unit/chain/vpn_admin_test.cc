// The vpn qube's section from the chain file: the wg-quick file read
// relative to the chain file and validated, the backend carried; a missing
// file, a bad file or "lab" refused with the key's position, nothing set.
#include "vpn_admin.h"

#include <gtest/gtest.h>

#include "qnet/config/chain_file.h"
#include "qnet/vpn/capability.h"
#include "registry.h"

namespace qnet::chain {
namespace {

const std::string kData = std::string(QNET_SOURCE_DIR) + "/tests/netns/chain/data/";

struct Planned {
  config::ChainSpec spec;
  Plan plan;
};

Planned PlanOfText(const std::string& text) {
  auto spec = config::ParseChainText(text, kData + "inline.toml", BuildKeyRegistry());
  EXPECT_TRUE(spec) << spec.error().message();
  auto plan = BuildPlan(*spec, 1700000000);
  EXPECT_TRUE(plan) << plan.error().message();
  return {*spec, *plan};
}

std::string Chain(const std::string& vpn_keys) {
  return "[chain]\nname = \"v\"\n[lab]\n"
         "[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\n"
         "[qube.sys-vpn]\nrole = \"vpn\"\nlabel = \"orange\"\nnetvm = \"sys-net\"\n" +
         vpn_keys;
}

TEST(VpnAdmin, ReadsTheFileRelativeToTheChainFileWithItsBackend) {
  Planned p = PlanOfText(Chain("wireguard = \"vpn-local.conf\"\nbackend = \"userspace\"\n"));
  ASSERT_TRUE(AttachVpnSections(p.plan, p.spec));
  const QubePlan* q = p.plan.Find("sys-vpn");
  ASSERT_NE(q, nullptr);
  auto section = vpn::VpnSectionFromJson(q->agent.sections.at("vpn"));
  ASSERT_TRUE(section) << section.error().message();
  EXPECT_EQ(section->source, "vpn-local.conf");
  EXPECT_EQ(section->backend, vpn::BackendChoice::kUserspace);
  EXPECT_TRUE(vpn::ParseWgQuick(section->wg_quick, section->source));
  EXPECT_EQ(p.plan.Find("sys-net")->agent.sections.count("vpn"), 0u);
}

TEST(VpnAdmin, RefusesWithTheKeysPositionAndSetsNothing) {
  struct Case {
    std::string keys;
    std::string error;
  } cases[] = {
      {"wireguard = \"vpn-postup.conf\"\n",
       "inline.toml:11:13: qube.sys-vpn.wireguard: vpn-postup.conf:3: PostUp:"},
      {"wireguard = \"no-such.conf\"\n",
       "inline.toml:11:13: qube.sys-vpn.wireguard: cannot read '"},
      {"wireguard = \"lab\"\n",
       "inline.toml:11:13: qube.sys-vpn.wireguard: \"lab\": the lab runtime has no WireGuard "
       "server yet"},
  };
  for (const auto& c : cases) {
    Planned p = PlanOfText(Chain(c.keys));
    Status s = AttachVpnSections(p.plan, p.spec);
    ASSERT_FALSE(s) << c.keys;
    EXPECT_NE(s.error().message().find(c.error), std::string::npos) << s.error().message();
    EXPECT_EQ(p.plan.Find("sys-vpn")->agent.sections.count("vpn"), 0u);
  }
}

}  // namespace
}  // namespace qnet::chain
