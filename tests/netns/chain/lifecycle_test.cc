// Lifecycle: lockdown first (contract 1), a dead agent keeps dropping
// (contract 3), qnetd restarts and adopts, `down --all` leaves nothing.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"

namespace qnet::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveRoot()) GTEST_SKIP() << "needs root (network namespaces, nftables)";
    inst_ = std::make_unique<TestInstance>(fmt::format("qt-life-{}", ::getpid() % 100000));
  }
  CmdResult Up() { return inst_->Qnet({"up", SourceDir() + "/configs/basic.toml"}); }
  json Row(const std::string& qube) { return LsRow(*inst_, qube); }
  std::string Curl() {
    return inst_->Exec("work", {"curl", "-s", "--max-time", "10", "http://203.0.113.10/"}).out;
  }
  std::unique_ptr<TestInstance> inst_;
};

TEST_F(Lifecycle, DownAll_LeavesNothingAndIsSafeTwice) {
  ASSERT_EQ(Up().code, 0);
  EXPECT_FALSE(Leftovers(inst_->name()).empty());
  auto d1 = inst_->Qnet({"down", "--all"});
  EXPECT_EQ(d1.code, 0) << d1.err;
  std::this_thread::sleep_for(200ms);  // qnetd exits after its reply
  auto left = Leftovers(inst_->name());
  EXPECT_TRUE(left.empty()) << fmt::format("{}", fmt::join(left, "\n"));
  auto d2 = inst_->Qnet({"down", "--all"});
  EXPECT_EQ(d2.code, 0) << d2.err;
  EXPECT_TRUE(Leftovers(inst_->name()).empty());
}

TEST_F(Lifecycle, DownAll_AfterQnetdWasKilled) {
  ASSERT_EQ(Up().code, 0);
  auto pids = FindPids({"qnetd", "--instance", inst_->name()});
  ASSERT_EQ(pids.size(), 1u);
  ::kill(pids[0], SIGKILL);
  std::this_thread::sleep_for(100ms);
  auto d = inst_->Qnet({"down", "--all"});
  EXPECT_EQ(d.code, 0) << d.err;
  auto left = Leftovers(inst_->name());
  EXPECT_TRUE(left.empty()) << fmt::format("{}", fmt::join(left, "\n"));
}

TEST_F(Lifecycle, KilledQnetd_ChainKeepsWorkingAndANewQnetdAdoptsIt) {
  ASSERT_EQ(Up().code, 0);
  auto pids = FindPids({"qnetd", "--instance", inst_->name()});
  ASSERT_EQ(pids.size(), 1u);
  ::kill(pids[0], SIGKILL);
  std::this_thread::sleep_for(100ms);
  // The qubes and their rules do not depend on qnetd.
  EXPECT_EQ(inst_->InNetns("work", {"curl", "-s", "--max-time", "10", "http://203.0.113.10/"}).out,
            "198.51.100.2\n");
  // `qnet ls` starts a new qnetd, which adopts the running qubes.
  EXPECT_EQ(Row("work")["state"], "running");
  EXPECT_EQ(Curl(), "198.51.100.2\n");
}

TEST_F(Lifecycle, HeldLockdown_LinksStayDownAndNothingLeavesTheQube) {
  auto up = std::async(std::launch::async, [&] {
    return inst_->Qnet({"up", SourceDir() + "/configs/basic.toml"}, 120,
                       {"QNET_TEST_HOLD_LOCKDOWN=work:4"});
  });
  // Wait for work's namespace to exist, then look while its agent is held.
  const std::string pin = "/run/netns/" + inst_->netns("work");
  for (int i = 0; i < 1000 && ::access(pin.c_str(), F_OK) != 0; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(::access(pin.c_str(), F_OK), 0);
  // sys-firewall, not held, has its table: the check below can see one.
  const std::string fw_pin = "/run/netns/" + inst_->netns("sys-firewall");
  bool fw_table = false;
  for (int i = 0; i < 200 && !fw_table; ++i) {
    std::this_thread::sleep_for(10ms);
    fw_table = ::access(fw_pin.c_str(), F_OK) == 0 &&
               inst_->InNetns("sys-firewall", {"nft", "list", "tables"}).out.find("qnet") !=
                   std::string::npos;
  }
  EXPECT_TRUE(fw_table) << "sys-firewall has no table while work is held";
  std::this_thread::sleep_for(500ms);
  auto links = inst_->InNetns("work", {"ip", "-o", "link", "show"});
  ASSERT_EQ(links.code, 0) << links.err;
  EXPECT_NE(links.out.find(": lo:"), std::string::npos) << links.out;
  EXPECT_EQ(links.out.find("eth0"), std::string::npos) << "work has a link before lockdown:\n"
                                                       << links.out;
  auto fw_links = inst_->InNetns("sys-firewall", {"ip", "-o", "link", "show"});
  ASSERT_EQ(fw_links.code, 0) << fw_links.err;
  EXPECT_EQ(fw_links.out.find("vif"), std::string::npos) << fw_links.out;
  auto table = inst_->InNetns("work", {"nft", "list", "tables"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out.find("qnet"), std::string::npos) << "table exists while held";
  // Nothing leaves work while it is held: no route to the lab at all.
  auto probe = inst_->InNetns("work", {"curl", "-sS", "--max-time", "2", "http://203.0.113.10/"});
  EXPECT_EQ(probe.code, 7) << probe.out << probe.err;  // "Network is unreachable"
  EXPECT_EQ(up.wait_for(0s), std::future_status::timeout) << "the hold ended before the checks";
  auto result = up.get();
  ASSERT_EQ(result.code, 0) << result.err;
  // Once released, the same probe gets through.
  EXPECT_EQ(inst_->InNetns("work", {"curl", "-sS", "--max-time", "5", "http://203.0.113.10/"}).out,
            "198.51.100.2\n");
  EXPECT_EQ(Curl(), "198.51.100.2\n");
}

TEST_F(Lifecycle, KilledAgent_QubeKeepsDroppingAndTheAgentComesBack) {
  ASSERT_EQ(Up().code, 0);
  int init = Row("sys-firewall")["pid"];
  std::ifstream children(fmt::format("/proc/{}/task/{}/children", init, init));
  int agent = 0;
  children >> agent;
  ASSERT_GT(agent, 0);
  ::kill(agent, SIGKILL);
  // While no agent runs: traffic the rules drop is still dropped, and counted.
  uint64_t before = Row("sys-firewall")["drops"]["input"];
  auto blocked = inst_->Exec("work", {"curl", "-s", "--max-time", "2", "http://10.137.0.2:9/"});
  EXPECT_EQ(blocked.code, 28);
  uint64_t after = Row("sys-firewall")["drops"]["input"];
  EXPECT_GT(after, before);
  EXPECT_EQ(Curl(), "198.51.100.2\n");
  // init restarted it.
  int again = 0;
  for (int i = 0; i < 100 && again == 0; ++i) {
    std::ifstream c(fmt::format("/proc/{}/task/{}/children", init, init));
    c >> again;
    if (again == agent) again = 0;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(again, 0);
  EXPECT_NE(again, agent);
  EXPECT_EQ(Row("sys-firewall")["state"], "running");
}

}  // namespace
}  // namespace qnet::testing
