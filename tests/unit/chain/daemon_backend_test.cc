// qnetd's lifecycle logic against a fake backend: the order in which a
// chain comes up (contract 1: no link before every lockdown is verified),
// what a failed `up` leaves, and which qubes `down` removes in which order.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "daemon.h"
#include "fake_backend.h"
#include "registry.h"

namespace qnet::chain {
namespace {

using testing::FakeBackend;
using testing::FakeWorld;

// The basic chain with a second app qube.
constexpr const char* kChain = R"(
[chain]
name = "t"

[lab]

[qube.sys-net]
role = "net"
label = "red"

[qube.sys-firewall]
role = "firewall"
label = "green"
netvm = "sys-net"

[qube.work]
role = "app"
label = "blue"
netvm = "sys-firewall"

[qube.personal]
role = "app"
label = "yellow"
netvm = "sys-firewall"
)";

class DaemonWithFakeBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/qnet-daemon-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    daemon_ = std::make_unique<Daemon>(Instance::Create("t").value().UnderRoot(root_),
                                       DaemonOptions{.bin_dir = "/nonexistent"}, BuildKeyRegistry(),
                                       clock_, std::make_unique<FakeBackend>(world_));
  }
  void TearDown() override {
    daemon_.reset();
    std::filesystem::remove_all(root_);
  }

  SystemClock clock_;
  FakeWorld world_;
  std::string root_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonWithFakeBackend, Up_SpawnsAllThenVerifiesEveryLockdownBeforeAnyLinkExists) {
  auto r = daemon_->Up("t.toml", kChain);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "chain t up: 4 qubes\n");
  // Netvms before their clients, in the plan's order; the lab starts while
  // the agents lock down, before anything is verified or linked.
  EXPECT_LT(world_.Last("spawn "), world_.First("lab start"));
  EXPECT_LT(world_.First("lab start"), world_.First("verify "));
  EXPECT_EQ(world_.Only("spawn "), (std::vector<std::string>{"spawn sys-net", "spawn sys-firewall",
                                                             "spawn work", "spawn personal"}));
  EXPECT_EQ(world_.Only("verify ").size(), 4u);
  EXPECT_EQ(world_.Only("connect "),
            (std::vector<std::string>{"connect sys-net vif2.0 sys-firewall eth0",
                                      "connect sys-firewall vif3.0 work eth0",
                                      "connect sys-firewall vif4.0 personal eth0"}));
  EXPECT_LT(world_.Last("spawn "), world_.First("verify "));
  // Contract 1: every qube's table was read back before the first link.
  EXPECT_LT(world_.Last("verify "), world_.First("connect "));
  EXPECT_LT(world_.Last("verify "), world_.First("lab connect"));
  EXPECT_LT(world_.Last("connect "), world_.First("up "));
  // Each agent is configured once every link is up.
  EXPECT_LT(world_.Last("up "), world_.First("call sys-net qnet.Configure"));
  EXPECT_EQ(world_.Only("call ").size(), 8u);  // qnet.Status + qnet.Configure each
  auto rows = daemon_->List();
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 4u);
  for (const QubeRow& row : *rows) EXPECT_EQ(row.state, "running") << row.name;
}

TEST_F(DaemonWithFakeBackend, Up_FailedLockdownCheckCreatesNoLinkAndLeavesNothing) {
  world_.fail.insert("verify work");
  auto r = daemon_->Up("t.toml", kChain);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("scripted: verify work"), std::string::npos)
      << r.error().message();
  EXPECT_EQ(world_.First("connect "), -1);
  EXPECT_EQ(world_.First("lab connect"), -1);
  EXPECT_EQ(world_.First("up "), -1);
  EXPECT_NE(world_.First("cleanup"), -1);
  EXPECT_NE(world_.First("lab stop"), -1);
  EXPECT_TRUE(daemon_->empty());
  // Positive control: the same chain comes up once nothing fails.
  world_.fail.clear();
  auto again = daemon_->Up("t.toml", kChain);
  EXPECT_TRUE(again) << again.error().message();
}

TEST_F(DaemonWithFakeBackend, Up_WhileUpIsRefused) {
  ASSERT_TRUE(daemon_->Up("t.toml", kChain));
  auto r = daemon_->Up("t.toml", kChain);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("qnet down --all"), std::string::npos);
  EXPECT_EQ(world_.Only("spawn ").size(), 4u);
}

TEST_F(DaemonWithFakeBackend, Down_NetvmWithClientsNeedsRecursiveAndRemovesClientsFirst) {
  ASSERT_TRUE(daemon_->Up("t.toml", kChain));
  auto refused = daemon_->Down("sys-firewall", /*recursive=*/false);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("--recursive"), std::string::npos);
  EXPECT_EQ(world_.First("remove "), -1);

  auto r = daemon_->Down("sys-firewall", /*recursive=*/true);
  ASSERT_TRUE(r) << r.error().message();
  auto removed = world_.Only("remove ");
  ASSERT_EQ(removed.size(), 3u);
  EXPECT_EQ(removed.back(), "remove sys-firewall");
  auto rows = daemon_->List();
  ASSERT_TRUE(rows);
  for (const QubeRow& row : *rows)
    EXPECT_EQ(row.state, row.name == "sys-net" ? "running" : "halted") << row.name;
}

TEST_F(DaemonWithFakeBackend, DownAll_CleansUpTheWholeInstanceThroughTheBackend) {
  ASSERT_TRUE(daemon_->Up("t.toml", kChain));
  auto r = daemon_->Down("", false);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_NE(world_.First("cleanup"), -1);
  EXPECT_TRUE(world_.running.empty());
  EXPECT_TRUE(daemon_->empty());
}

TEST_F(DaemonWithFakeBackend, Restore_AdoptsTheQubesOfThePreviousDaemon) {
  ASSERT_TRUE(daemon_->Up("t.toml", kChain));
  daemon_->Detach();
  Daemon next(Instance::Create("t").value().UnderRoot(root_), DaemonOptions{}, BuildKeyRegistry(),
              clock_, std::make_unique<FakeBackend>(world_));
  ASSERT_TRUE(next.Restore());
  EXPECT_EQ(world_.Only("adopt ").size(), 4u);
  EXPECT_EQ(world_.First("lab stop"), -1);  // the lab outlives a detached qnetd
  auto rows = next.List();
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 4u);
  for (const QubeRow& row : *rows) EXPECT_EQ(row.state, "running") << row.name;
}

TEST_F(DaemonWithFakeBackend, Start_OfARunningQubeIsRefusedAndChangesNothing) {
  ASSERT_TRUE(daemon_->Up("t.toml", kChain));
  world_.events.clear();
  auto r = daemon_->Start("work");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "qube 'work' is running; use `qnet restart work`");
  EXPECT_TRUE(world_.events.empty());
  auto unknown = daemon_->Start("nope");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(), "qube 'nope' is not in the chain");
}

TEST_F(DaemonWithFakeBackend, Start_DeadClientIsRemovedSpawnedVerifiedThenRelinked) {
  ASSERT_TRUE(daemon_->Up("t.toml", kChain));
  world_.dead.insert("work");
  world_.events.clear();
  auto r = daemon_->Start("work");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "work started\n");
  EXPECT_EQ(world_.events, (std::vector<std::string>{
                               "remove work",
                               "spawn work",
                               "call work qnet.Status",
                               "verify work",
                               "connect sys-firewall vif3.0 work eth0",
                               "up sys-firewall vif3.0",
                               "up work eth0",
                               "call work qnet.Configure",
                               "call sys-firewall qnet.Configure",
                           }));
  auto rows = daemon_->List();
  ASSERT_TRUE(rows);
  for (const QubeRow& row : *rows) EXPECT_EQ(row.state, "running") << row.name;
}

TEST_F(DaemonWithFakeBackend, Start_FailedLockdownCheckLinksNothing) {
  ASSERT_TRUE(daemon_->Up("t.toml", kChain));
  world_.dead.insert("work");
  world_.fail.insert("verify work");
  world_.events.clear();
  auto r = daemon_->Start("work");
  ASSERT_FALSE(r);
  EXPECT_EQ(world_.First("connect "), -1);
  EXPECT_EQ(world_.First("up "), -1);
  EXPECT_EQ(world_.First("call sys-firewall"), -1);
  // Positive control: once the check passes the qube is linked.
  world_.fail.clear();
  ASSERT_TRUE(daemon_->Restart("work"));
  EXPECT_NE(world_.First("connect sys-firewall vif3.0 work eth0"), -1);
}

TEST_F(DaemonWithFakeBackend, RestartNetvm_RelinksItsUplinkAndEveryRunningClient) {
  ASSERT_TRUE(daemon_->Up("t.toml", kChain));
  ASSERT_TRUE(daemon_->Down("personal", false));
  world_.events.clear();
  auto r = daemon_->Restart("sys-firewall");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "sys-firewall restarted\n");
  EXPECT_EQ(world_.events.front(), "remove sys-firewall");
  EXPECT_LT(world_.First("verify sys-firewall"), world_.First("connect "));
  // Its uplink and its running client; personal is halted and stays so.
  EXPECT_EQ(world_.Only("connect "),
            (std::vector<std::string>{"connect sys-net vif2.0 sys-firewall eth0",
                                      "connect sys-firewall vif3.0 work eth0"}));
  EXPECT_EQ(
      world_.Only("call "),
      (std::vector<std::string>{"call sys-firewall qnet.Status", "call sys-firewall qnet.Configure",
                                "call sys-net qnet.Configure", "call work qnet.Configure"}));
  EXPECT_EQ(world_.First("spawn personal"), -1);
}

TEST_F(DaemonWithFakeBackend, Start_ClientOfAHaltedNetvmIsRefused) {
  ASSERT_TRUE(daemon_->Up("t.toml", kChain));
  ASSERT_TRUE(daemon_->Down("sys-firewall", /*recursive=*/true));
  world_.events.clear();
  auto r = daemon_->Start("work");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "netvm 'sys-firewall' of 'work' is not running; start it first");
  EXPECT_TRUE(world_.events.empty());
  // Positive control: netvm first, then the client.
  ASSERT_TRUE(daemon_->Start("sys-firewall"));
  ASSERT_TRUE(daemon_->Start("work"));
}

TEST_F(DaemonWithFakeBackend, Restore_AdoptsTheLabToWireARestartedNetQube) {
  ASSERT_TRUE(daemon_->Up("t.toml", kChain));
  daemon_->Detach();
  Daemon next(Instance::Create("t").value().UnderRoot(root_), DaemonOptions{}, BuildKeyRegistry(),
              clock_, std::make_unique<FakeBackend>(world_));
  ASSERT_TRUE(next.Restore());
  world_.events.clear();
  ASSERT_TRUE(next.Restart("sys-net"));
  EXPECT_NE(world_.First("lab connect sys-net"), -1);
  EXPECT_NE(world_.First("up sys-net uplink0"), -1);
}

TEST(Backend, UnknownBackendIsRefusedWithTheKnownOnes) {
  auto b = MakeBackend("xen", Instance::Create("t").value());
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message(), "backend 'xen': unknown (known: netns)");
  auto netns = MakeBackend("netns", Instance::Create("t").value());
  ASSERT_TRUE(netns);
  EXPECT_EQ((*netns)->name(), "netns");
}

}  // namespace
}  // namespace qnet::chain
