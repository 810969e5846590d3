// `qnet policy check`: arguments to a request, and the decision it prints.
#include "policy_cli.h"

#include <gtest/gtest.h>

#include <string>

namespace qnet::chain {
namespace {

const std::string kPolicyDir =
    std::string(QNET_SOURCE_DIR) + "/tests/unit/qrexec/policy_data/policy.d";

TEST(PolicyCli, ArgumentsBecomeTheRequestAndTheQubesItNames) {
  PolicyCheckArgs args;
  args.call = "qubes.Open+pdf";
  args.source = "work";
  args.target = "@dispvm:fedora-dvm";
  args.tags = {"work=trusted"};
  args.types = {"fedora-dvm=AppVM"};
  args.dispvms = {"work=fedora-dvm"};
  auto built = BuildPolicyCheck(args);
  ASSERT_TRUE(built.has_value()) << built.error().message();
  EXPECT_EQ(built->first.service, "qubes.Open");
  EXPECT_EQ(built->first.argument, "pdf");
  const qrexec::QubeInfo* work = built->second.Find("work");
  ASSERT_NE(work, nullptr);
  EXPECT_EQ(work->tags, std::vector<std::string>{"trusted"});
  EXPECT_EQ(work->default_dispvm, "fedora-dvm");
  EXPECT_NE(built->second.Find("fedora-dvm"), nullptr);
  EXPECT_NE(built->second.Find("dom0"), nullptr);

  args.tags = {"work"};
  auto bad = BuildPolicyCheck(args);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "--tag work: expected QUBE=VALUE");
}

TEST(PolicyCli, PrintsTheDecisionAndTheRuleAndExitsByAction) {
  struct Case {
    PolicyCheckArgs args;
    int exit_code;
    std::string line;
  };
  const Case cases[] = {
      {{kPolicyDir, "qubes.GetDate", "work", "@default", {}, {}, {}},
       0,
       "allow target=dom0 autostart=yes notify=no (allowed by " + kPolicyDir +
           "/90-default.policy:27)\n"},
      {{kPolicyDir, "qubes.Filecopy", "work", "personal", {}, {}, {}},
       3,
       "ask target=personal autostart=yes notify=no (ask by " + kPolicyDir +
           "/50-config-filecopy.policy:3)\n"},
      {{kPolicyDir, "qubes.Nothing", "work", "personal", {}, {}, {}},
       1,
       "deny notify=yes (no rule matched)\n"},
      {{kPolicyDir + "/missing", "qubes.GetDate", "work", "@default", {}, {}, {}},
       1,
       "deny notify=yes (no rule matched)\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args.call);
    ::testing::internal::CaptureStdout();
    int code = RunPolicyCheck(c.args);
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), c.line);
    EXPECT_EQ(code, c.exit_code);
  }
}

}  // namespace
}  // namespace qnet::chain
