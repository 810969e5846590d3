#include "qnet/agent/options.h"

#include <gtest/gtest.h>

namespace qnet::agent {
namespace {

Result<Options> Parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(AgentOptions, RoundTripThroughArgv) {
  Options o;
  o.mode = "init";
  o.qube = "work";
  o.instance = "t1";
  o.control_fd = 3;
  o.listen_fd = 4;
  o.ipv6 = true;
  auto back = Parse(o.ToArgv("qnet-agent", "agent"));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->mode, "agent");
  EXPECT_EQ(back->qube, "work");
  EXPECT_EQ(back->instance, "t1");
  EXPECT_EQ(back->control_fd, 3);
  EXPECT_TRUE(back->ipv6);
}

// The shipped agent (this library is its build) carries no test hook: the
// flags of qnet-agent-test are unknown here, and a set hook is not passed on.
TEST(AgentOptions, ShippedBuild_RefusesTheTestHookFlags) {
  EXPECT_EQ(Parse({"a", "agent", "--qube", "w", "--control-fd", "3", "--hold-lockdown", "4"})
                .error()
                .message(),
            "unknown flag --hold-lockdown");
  EXPECT_EQ(Parse({"a", "agent", "--qube", "w", "--control-fd", "3", "--refresh-floor", "1"})
                .error()
                .message(),
            "unknown flag --refresh-floor");
  Options o;
  o.qube = "work";
  o.control_fd = 3;
  o.hold_lockdown_seconds = 2;
  o.refresh_floor_seconds = 1;
  for (const std::string& arg : o.ToArgv("qnet-agent", "agent"))
    EXPECT_EQ(arg.find("--hold"), std::string::npos) << arg;
}

TEST(AgentOptions, ErrorsNameTheFlag) {
  EXPECT_EQ(Parse({"a", "run"}).error().message(), "unknown mode 'run' (init|agent)");
  EXPECT_EQ(Parse({"a", "agent", "--qube"}).error().message(), "--qube needs a value");
  EXPECT_EQ(Parse({"a", "agent", "--bogus", "1"}).error().message(), "unknown flag --bogus");
  EXPECT_EQ(Parse({"a", "agent", "--qube", "w", "--control-fd", "x"}).error().message(),
            "--control-fd: 'x' is not a number");
  EXPECT_EQ(
      Parse({"a", "agent", "--qube", "w", "--control-fd", "3", "--ipv6", "on"}).error().message(),
      "--ipv6: 'on' is not off|routed");
  EXPECT_EQ(Parse({"a", "agent", "--control-fd", "3"}).error().message(), "--qube is required");
}

}  // namespace
}  // namespace qnet::agent
