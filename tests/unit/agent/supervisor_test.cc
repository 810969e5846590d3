// Supervised services, the init's policy with a fake launcher and a fake
// clock: back-off after short runs, reset after a long one, a changed
// description restarts, a removed service stops (and is killed when it
// ignores SIGTERM), its network namespace made before the first start and
// removed with it. Plus the wanted-list file the agent and init exchange.
#include "supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "qnet/base/fd.h"

namespace qnet::agent {
namespace {

using qube::SupervisedService;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kKilled9 = SIGKILL;  // waitpid status of a SIGKILLed child

class FakeLauncher final : public ServiceLauncher {
 public:
  pid_t next_pid = 100;
  std::vector<std::string> log;
  bool fail_start = false;

  Result<pid_t> Start(const SupervisedService& s) override {
    if (fail_start) return Fail(Errc::kIo, "exec failed");
    log.push_back("start " + s.name + " " + s.argv.back());
    return next_pid++;
  }
  Status CreateNetns(const std::string& name) override {
    log.push_back("netns+ " + name);
    return OkStatus();
  }
  void RemoveNetns(const std::string& name) override { log.push_back("netns- " + name); }
  void Signal(pid_t pid, int sig) override { log.push_back(fmt::format("kill {} {}", pid, sig)); }
};

SupervisedService Svc(std::string name, std::string arg = "a", bool netns = false) {
  return {.name = std::move(name), .argv = {"/usr/bin/daemon", std::move(arg)}, .own_netns = netns};
}

TEST(RestartBackoff, DoublesAfterShortRunsUpToTheCap) {
  RestartBackoff b(
      {.initial = milliseconds(100), .max = milliseconds(1000), .stable = seconds(10)});
  std::vector<long> delays;
  for (int i = 0; i < 6; ++i) delays.push_back(b.AfterExit(milliseconds(10)).count());
  EXPECT_EQ(delays, (std::vector<long>{100, 200, 400, 800, 1000, 1000}));
}

TEST(RestartBackoff, ResetsAfterARunLongerThanStable) {
  RestartBackoff b(
      {.initial = milliseconds(100), .max = milliseconds(1000), .stable = seconds(10)});
  b.AfterExit(milliseconds(1));
  b.AfterExit(milliseconds(1));
  EXPECT_EQ(b.AfterExit(milliseconds(1)).count(), 400);
  EXPECT_EQ(b.AfterExit(seconds(11)).count(), 100);
  EXPECT_EQ(b.AfterExit(milliseconds(1)).count(), 200);
}

class SupervisorTest : public ::testing::Test {
 protected:
  FakeLauncher launcher;
  Supervisor sup{launcher, "sys-vpn"};
  Supervisor::TimePoint t0 = SupervisorClock::now();
};

TEST_F(SupervisorTest, StartsAWantedServiceAndRestartsItWithBackoffWhenItDies) {
  sup.SetWanted({Svc("wg")}, t0);
  sup.Run(t0);
  ASSERT_EQ(launcher.log, (std::vector<std::string>{"start wg a"}));
  ASSERT_EQ(sup.States()[0].pid, 100);

  // Killed after 1 s: back again after the first back-off step, not before.
  EXPECT_TRUE(sup.Exited(100, kKilled9, t0 + seconds(1)));
  EXPECT_EQ(sup.States()[0].pid, 0);
  EXPECT_EQ(sup.States()[0].last_exit, 128 + SIGKILL);
  sup.Run(t0 + seconds(1) + milliseconds(50));
  EXPECT_EQ(launcher.log.size(), 1u);
  ASSERT_TRUE(sup.NextDue());
  EXPECT_EQ(*sup.NextDue(), t0 + seconds(1) + milliseconds(100));
  sup.Run(t0 + seconds(1) + milliseconds(100));
  EXPECT_EQ(launcher.log.back(), "start wg a");
  EXPECT_EQ(sup.States()[0].pid, 101);
  EXPECT_EQ(sup.States()[0].restarts, 1);

  // Dies again at once: the next wait is twice as long.
  sup.Exited(101, kKilled9, t0 + seconds(1) + milliseconds(150));
  EXPECT_EQ(*sup.NextDue(), t0 + seconds(1) + milliseconds(350));
}

TEST_F(SupervisorTest, AnUnknownChildIsNotAService) {
  sup.SetWanted({Svc("wg")}, t0);
  sup.Run(t0);
  EXPECT_FALSE(sup.Exited(4242, 0, t0));
  EXPECT_EQ(sup.States()[0].pid, 100);
}

TEST_F(SupervisorTest, TheSameListAgainLeavesTheDaemonRunning) {
  sup.SetWanted({Svc("wg")}, t0);
  sup.Run(t0);
  sup.SetWanted({Svc("wg")}, t0 + seconds(1));
  sup.Run(t0 + seconds(1));
  EXPECT_EQ(launcher.log, (std::vector<std::string>{"start wg a"}));
}

TEST_F(SupervisorTest, AChangedDescriptionStopsTheOldAndStartsTheNewAtOnce) {
  sup.SetWanted({Svc("wg", "a")}, t0);
  sup.Run(t0);
  sup.SetWanted({Svc("wg", "b")}, t0 + seconds(1));
  EXPECT_EQ(launcher.log.back(), fmt::format("kill 100 {}", SIGTERM));
  sup.Exited(100, SIGTERM, t0 + seconds(1));
  sup.Run(t0 + seconds(1));
  EXPECT_EQ(launcher.log.back(), "start wg b");
}

TEST_F(SupervisorTest, ARemovedServiceStopsAndIsKilledWhenItIgnoresSigterm) {
  sup.SetWanted({Svc("wg", "a", /*netns=*/true)}, t0);
  sup.Run(t0);
  EXPECT_EQ(launcher.log, (std::vector<std::string>{"netns+ wg", "start wg a"}));
  sup.SetWanted({}, t0 + seconds(1));
  EXPECT_EQ(launcher.log.back(), fmt::format("kill 100 {}", SIGTERM));
  sup.Run(t0 + seconds(1) + Supervisor::kStopGrace - milliseconds(1));
  EXPECT_EQ(launcher.log.size(), 3u);
  sup.Run(t0 + seconds(1) + Supervisor::kStopGrace);
  EXPECT_EQ(launcher.log.back(), fmt::format("kill 100 {}", SIGKILL));
  // Gone: not restarted, its network namespace removed, no state left.
  sup.Exited(100, kKilled9, t0 + seconds(5));
  EXPECT_EQ(launcher.log.back(), "netns- wg");
  EXPECT_FALSE(sup.NextDue());
  EXPECT_TRUE(sup.States().empty());
}

TEST_F(SupervisorTest, TheNetworkNamespaceSurvivesRestarts) {
  sup.SetWanted({Svc("wg", "a", true)}, t0);
  sup.Run(t0);
  sup.Exited(100, kKilled9, t0 + seconds(20));
  sup.Run(t0 + seconds(21));
  EXPECT_EQ(launcher.log, (std::vector<std::string>{"netns+ wg", "start wg a", "start wg a"}));
}

TEST_F(SupervisorTest, AFailedStartIsRetriedWithBackoff) {
  launcher.fail_start = true;
  sup.SetWanted({Svc("wg")}, t0);
  sup.Run(t0);
  EXPECT_EQ(sup.States()[0].pid, 0);
  ASSERT_TRUE(sup.NextDue());
  EXPECT_EQ(*sup.NextDue(), t0 + milliseconds(100));
  launcher.fail_start = false;
  sup.Run(t0 + milliseconds(100));
  EXPECT_EQ(sup.States()[0].pid, 100);
}

TEST_F(SupervisorTest, StopAllSignalsEveryRunningServiceAndRestartsNone) {
  sup.SetWanted({Svc("a"), Svc("b")}, t0);
  sup.Run(t0);
  sup.StopAll();
  EXPECT_EQ(launcher.log[2], fmt::format("kill 100 {}", SIGTERM));
  EXPECT_EQ(launcher.log[3], fmt::format("kill 101 {}", SIGTERM));
  sup.Exited(100, SIGTERM, t0);
  EXPECT_FALSE(sup.NextDue());
}

TEST(ServiceFiles, WantedListRoundTripsAndABadFileChangesNothing) {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("qnet-svc-{}", ::getpid());
  std::filesystem::create_directories(dir);
  std::string wanted = (dir / "wanted.json").string(), state = (dir / "state.json").string();
  // No file yet: nothing wanted.
  auto none = ReadWantedServices(wanted);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  ServiceClient client(wanted, state);
  // An empty list with nothing written is what the init runs already: no
  // file, no signal (the parent of a test is not an init).
  ASSERT_TRUE(client.Publish({}));
  EXPECT_FALSE(std::filesystem::exists(wanted));

  std::vector<SupervisedService> list = {Svc("wg", "x", true)};
  ASSERT_TRUE(WriteFileAtomic(wanted, qube::ServicesToJson(list)));
  auto back = ReadWantedServices(wanted);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, list);

  ASSERT_TRUE(WriteFileAtomic(wanted, R"([{"name":"wg","argv":["relative"]}])"));
  auto bad = ReadWantedServices(wanted);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "service wg: argv: argv[0] must be an absolute path");

  ASSERT_TRUE(
      WriteServiceStates({{.name = "wg", .pid = 7, .restarts = 2, .last_exit = 137}}, state));
  auto states = client.States();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].pid, 7);
  EXPECT_EQ(states[0].restarts, 2);
  EXPECT_EQ(states[0].last_exit, 137);
  std::filesystem::remove_all(dir);
}

TEST(ServiceSpec, BadEntriesNameTheServiceAndField) {
  struct Case {
    const char* json;
    const char* error;
  } cases[] = {
      {R"({})", "services: expected a JSON array"},
      {R"([{"argv":["/x"]}])", "service [0]: name: missing"},
      {R"([{"name":"Bad!","argv":["/x"]}])", "service 'Bad!': name: 1..32 of [a-z0-9-]"},
      {R"([{"name":"a","argv":[]}])", "service a: argv: argv[0] must be an absolute path"},
      {R"([{"name":"a","argv":["/x"],"env":["NOEQUALS"]}])", "service a: env: expected KEY=VALUE"},
      {R"([{"name":"a","argv":["/x"],"uid":70000}])",
       "service [0]: uid: expected a qube id 0..65535"},
      {R"([{"name":"a","argv":["/x"]},{"name":"a","argv":["/y"]}])",
       "service a: name: given twice"},
  };
  for (const auto& c : cases) {
    auto r = qube::ServicesFromJson(c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error().message(), c.error) << c.json;
  }
}

}  // namespace
}  // namespace qnet::agent
