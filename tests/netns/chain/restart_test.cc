// `qnet start` and `qnet restart` of a single qube: a dead qube comes back
// without `down --all`, a restart discards the qube's root changes and keeps
// its home, and while a netvm restarts its clients' traffic stays filtered
// (the lab sees none of what the client's rules drop, with a positive
// control through the same capture afterwards).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <regex>
#include <thread>

#include "harness.h"

namespace qnet::testing {
namespace {

using namespace std::chrono_literals;

// The qube's user's home, inside the qube.
const std::string kHome = "/home/user";

struct RestartTraits {
  static constexpr const char* kPrefix = "qt-restart";
  static constexpr const char* kFile = "tests/netns/chain/data/two-apps.toml";
};

class Restart : public SharedChainTest<RestartTraits> {
 protected:
  static std::string State(const std::string& qube) {
    const nlohmann::json row = LsRow(*inst_, qube);
    return row.is_object() ? row.value("state", "") : "";
  }
  static int InitPid(const std::string& qube) {
    const nlohmann::json row = LsRow(*inst_, qube);
    return row.is_object() && row["pid"].is_number() ? row["pid"].get<int>() : 0;
  }
  static CmdResult Curl(const std::string& qube) {
    return inst_->Exec(qube, {"curl", "-s", "--max-time", "10", "http://203.0.113.10/"});
  }
  // Waits (at most 10 s) until `qnet ls` shows the qube in `state`.
  static bool WaitForState(const std::string& qube, const std::string& state) {
    for (int i = 0; i < 100; ++i) {
      if (State(qube) == state) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  // UDP to web.lab's echo port from work's network namespace: `seconds`
  // long at 1000 packets a second. Returns the number sent.
  static long Blast(double seconds) {
    auto r = inst_->InNetns(
        "work",
        {Bin("qnet-blast"), "--dst", "203.0.113.10", "--port", "7", "--udp", "--rate", "1000",
         "--seconds", fmt::format("{}", seconds), "--max-packets", "20000"},
        30);
    std::smatch m;
    if (std::regex_search(r.out, m, std::regex("sent (\\d+)"))) return std::stol(m[1]);
    ADD_FAILURE() << "blast: " << r.out << r.err;
    return -1;
  }
};

TEST_F(Restart, Start_OfARunningQubeIsRefused) {
  auto r = inst_->Qnet({"start", "work"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("qube 'work' is running"), std::string::npos) << r.err;
  EXPECT_EQ(State("work"), "running");
  auto unknown = inst_->Qnet({"start", "no-such-qube"});
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.err.find("no-such-qube"), std::string::npos) << unknown.err;
}

TEST_F(Restart, KilledInit_StartBringsTheQubeBack) {
  ASSERT_EQ(Curl("work").code, 0);  // positive control before
  const int pid = InitPid("work");
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(WaitForState("work", "dead")) << State("work");
  EXPECT_NE(Curl("work").code, 0);  // nothing runs in a dead qube

  auto r = inst_->Qnet({"start", "work"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(State("work"), "running");
  EXPECT_NE(InitPid("work"), pid);
  auto curl = Curl("work");
  EXPECT_EQ(curl.code, 0) << curl.err;
  EXPECT_EQ(curl.out, "198.51.100.2\n");
  // The other client of the same netvm was never disturbed.
  EXPECT_EQ(Curl("personal").code, 0);
}

TEST_F(Restart, Restart_DiscardsRootChangesAndKeepsTheHome) {
  auto write = inst_->Exec("work", {"sh", "-c", "echo root > /qnet-restart-marker"}, true);
  ASSERT_EQ(write.code, 0) << write.err;
  const std::string kept_file = kHome + "/restart-keep";
  auto keep = inst_->Exec("work", {"sh", "-c", "echo kept > " + kept_file});
  ASSERT_EQ(keep.code, 0) << keep.err;
  const int pid = InitPid("work");

  auto r = inst_->Qnet({"restart", "work"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(InitPid("work"), pid);
  EXPECT_EQ(State("work"), "running");
  auto gone = inst_->Exec("work", {"cat", "/qnet-restart-marker"});
  EXPECT_NE(gone.code, 0) << gone.out;
  auto kept = inst_->Exec("work", {"cat", kept_file});
  EXPECT_EQ(kept.code, 0) << kept.err;
  EXPECT_EQ(kept.out, "kept\n");
  EXPECT_EQ(Curl("work").code, 0);
}

TEST_F(Restart, RestartNetvm_ClientsReattachAndTheirTrafficStaysFiltered) {
  // work may reach web.lab's HTTP only: its UDP to port 7 is dropped at
  // sys-firewall, which restarts while work sends it.
  const std::string rules = fmt::format("/tmp/qnet-restart-rules-{}", ::getpid());
  { std::ofstream(rules) << "accept dsthost=203.0.113.10 proto=tcp dstports=80\n"; }
  auto set = inst_->Qnet({"firewall", "work", "set", rules});
  ::unlink(rules.c_str());
  ASSERT_EQ(set.code, 0) << set.out << set.err;
  const int pid = InitPid("sys-firewall");
  {
    Capture capture(inst_->netns("lab-web"), "eth0", "udp dst port 7");
    auto blast = std::async(std::launch::async, [] { return Blast(10); });
    std::this_thread::sleep_for(1s);
    auto r = inst_->Qnet({"restart", "sys-firewall"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    // The restart happened while packets flew (10 s of them leave room for
    // a slow restart on a loaded machine).
    EXPECT_EQ(blast.wait_for(0s), std::future_status::timeout);
    EXPECT_GT(blast.get(), 2000);
    EXPECT_EQ(ExpectCaptured(capture.Finish()), 0);
  }
  EXPECT_NE(InitPid("sys-firewall"), pid);
  // Both clients reattached: work's allowed traffic and personal's flow.
  EXPECT_EQ(Curl("work").code, 0);
  EXPECT_EQ(Curl("personal").code, 0);
  // Positive control: the same blast through the same capture arrives once
  // work's rules allow it.
  auto allow =
      inst_->Qnet({"firewall", "work", "add", "--before", "0", "accept proto=udp dstports=7"});
  ASSERT_EQ(allow.code, 0) << allow.out << allow.err;
  {
    Capture capture(inst_->netns("lab-web"), "eth0", "udp dst port 7");
    EXPECT_GT(Blast(1), 500);
    EXPECT_GT(ExpectCaptured(capture.Finish()), 500);
  }
  auto back = inst_->Qnet({"firewall", "work", "reset"});
  EXPECT_EQ(back.code, 0) << back.err;
}

}  // namespace
}  // namespace qnet::testing
