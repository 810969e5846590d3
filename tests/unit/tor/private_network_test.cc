#include "qnet/tor/private_network.h"

#include <gtest/gtest.h>

namespace qnet::tor {
namespace {

constexpr char kA[] = "A6C49C0E64300BD6C6FF4BADEAD848CA41BA6557";
constexpr char kB[] = "38F26A8727B44633678BB1B52F876193620C41DD";

PrivateNetworkPlan KeyedPlan() {
  PrivateNetworkPlan plan = LabNetworkPlan();
  for (NetworkNode& n : plan.nodes) {
    n.fingerprint = kB;
    n.v3_identity = kA;
  }
  return plan;
}

TEST(PrivateNetwork, LabPlanHasThreeAuthoritiesAndTwoRelaysOnTheLabAddresses) {
  PrivateNetworkPlan plan = LabNetworkPlan();
  ASSERT_EQ(plan.nodes.size(), 5u);
  EXPECT_EQ(
      std::count_if(plan.nodes.begin(), plan.nodes.end(), [](auto& n) { return n.authority; }), 3);
  EXPECT_EQ(plan.nodes.front().address.ToString(), "203.0.113.31");
  EXPECT_EQ(plan.nodes.back().address.ToString(), "203.0.113.35");
}

TEST(PrivateNetwork, DirAuthorityLinesNeedKeys) {
  EXPECT_FALSE(DirAuthorityLines(LabNetworkPlan()).has_value());
  auto lines = DirAuthorityLines(KeyedPlan());
  ASSERT_TRUE(lines.has_value());
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ(
      (*lines)[0],
      fmt::format("DirAuthority auth1 orport=5000 no-v2 v3ident={} 203.0.113.31:7000 {}", kA, kB));
}

TEST(PrivateNetwork, NodeTorrcCarriesTheMeasuredSettings) {
  PrivateNetworkPlan plan = KeyedPlan();
  NodePaths paths{"/tmp/n/data", "/tmp/n/log", "/tmp/resolv.conf"};
  auto lines = *DirAuthorityLines(plan);
  auto auth = RenderNodeTorrc(plan, plan.nodes[0], paths, lines);
  ASSERT_TRUE(auth.has_value()) << auth.error().message();
  for (const char* want :
       {"TestingTorNetwork 1\n", "ExitPolicy accept *:*\n", "V3AuthVotingInterval 10\n",
        "TestingV3AuthInitialVotingInterval 5\n", "ServerDNSDetectHijacking 0\n",
        "AuthoritativeDirectory 1\n", "ORPort 203.0.113.31:5000\n"})
    EXPECT_NE(auth->find(want), std::string::npos) << want;
  auto relay = RenderNodeTorrc(plan, plan.nodes[3], paths, lines);
  EXPECT_EQ(relay->find("AuthoritativeDirectory"), std::string::npos);
  auto keys_only = RenderNodeTorrc(plan, plan.nodes[0], paths, {});
  EXPECT_EQ(keys_only->find("TestingTorNetwork"), std::string::npos);
  EXPECT_FALSE(RenderNodeTorrc(plan, plan.nodes[0], {"rel/dir", "/l", "/r"}, lines).has_value());
  EXPECT_FALSE(RenderClientTorrc("/d", "/c s", "/l", lines).has_value());
}

TEST(PrivateNetwork, ReadsFingerprintsFromToolOutput) {
  EXPECT_EQ(
      *CertificateFingerprint(fmt::format("dir-key-certificate-version 3\nfingerprint {}\n", kA)),
      kA);
  EXPECT_FALSE(CertificateFingerprint("fingerprint XYZ").has_value());
  EXPECT_EQ(*ListedFingerprint("auth1 38F2 6A87 27B4 4633 678B B1B5 2F87 6193 620C 41DD\n"), kB);
  EXPECT_FALSE(ListedFingerprint("auth1 38F2\n").has_value());
}

}  // namespace
}  // namespace qnet::tor
