// Test harness for end-to-end tests of qnet's programs: runs `qnet` and
// other commands, owns a test instance and tears it down on every exit.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace qnet::testing {

struct CmdResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs argv (stdin /dev/null), waiting at most timeout_s seconds (then SIGKILL).
CmdResult RunCmd(const std::vector<std::string>& argv, int timeout_s = 60,
                 const std::vector<std::string>& extra_env = {});

// Paths of the built programs (bin dir next to the test binaries).
std::string Bin(const std::string& program);

// A packet capture (qnet-capture) in namespace `netns` on `iface` for BPF
// `filter`. The constructor returns once the capture reports "listening"
// (its filter is installed), so what is sent afterwards is seen; Finish()
// stops it and reports. A test asserts with ExpectCaptured().
class Capture {
 public:
  Capture(const std::string& netns, const std::string& iface, const std::string& filter,
          int max_seconds = 30);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  struct Report {
    long captured = -1;  // -1: the capture never reported
    long dropped = 0;    // packets the kernel dropped before the capture saw them
    bool listened = false;
    std::string log;  // everything it printed
  };
  // Lets packets in flight land (grace), stops the capture, and reports.
  Report Finish(int grace_ms = 300);

 private:
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  bool listened_ = false;
  std::string out_text_, err_text_;
};
// The source tree (for configs/).
std::string SourceDir();

// A qnet instance of the test's own; its destructor runs `qnet down --all`.
class TestInstance {
 public:
  explicit TestInstance(std::string name);
  ~TestInstance();
  TestInstance(const TestInstance&) = delete;
  TestInstance& operator=(const TestInstance&) = delete;

  const std::string& name() const { return name_; }
  CmdResult Qnet(std::vector<std::string> args, int timeout_s = 120,
                 const std::vector<std::string>& extra_env = {}) const;
  // The same with the shipped CLI (no test hooks; starts the shipped qnetd).
  CmdResult ShippedQnet(std::vector<std::string> args, int timeout_s = 120,
                        const std::vector<std::string>& extra_env = {}) const;
  // `qnet exec [--root] QUBE -- argv...`
  CmdResult Exec(const std::string& qube, std::vector<std::string> argv, bool root = false,
                 int timeout_s = 60) const;
  // `ip netns exec <instance>-<ns> argv...`: the test's own view inside a namespace.
  CmdResult InNetns(const std::string& ns, std::vector<std::string> argv, int timeout_s = 60) const;
  std::string netns(const std::string& qube) const { return name_ + "-" + qube; }

 private:
  std::string name_;
};

// What an instance left on the machine: namespaces, processes, mounts, files.
std::vector<std::string> Leftovers(const std::string& instance);

// Skips the test unless root (and says why).
bool HaveRoot();

// The programs the tests drive: the QNET_TEST_HOOKS builds (qnet-test starts
// qnetd-test, which starts qnet-agent-test). kShippedQnet is what
// `cmake --install` ships, for the test that proves it has no hooks.
inline constexpr const char* kQnet = "qnet-test";
inline constexpr const char* kShippedQnet = "qnet";

// The environment a test chain's qnetd starts with: the hostname refresh
// floor lowered from 60 s to 1 s, so a test follows a changed record in
// seconds (the records it changes carry a TTL of 1).
inline const std::vector<std::string> kTestChainEnv = {"QNET_TEST_REFRESH_FLOOR=1"};

}  // namespace qnet::testing

#include <nlohmann/json.hpp>

namespace qnet::testing {
// Pids whose command line contains every one of the given words.
std::vector<int> FindPids(const std::vector<std::string>& words);
// The qube's row of `qnet ls --json` (null when absent).
nlohmann::json LsRow(const TestInstance& inst, const std::string& qube);
// The qube's address as `qnet ls --json` shows it ("" when absent).
std::string Ip(const TestInstance& inst, const std::string& qube);
// The packet counter of the first rule in `chain` of the qube's qnet table
// whose text (as `nft list chain` prints it) contains `match`; -1 when none.
long RuleCounter(const TestInstance& inst, const std::string& qube, const std::string& chain,
                 const std::string& match);
}  // namespace qnet::testing

#include <gtest/gtest.h>

namespace qnet::testing {

// The number of packets a capture saw; fails the test when the capture did
// not listen, did not report, or lost packets (a short count proves nothing).
inline long ExpectCaptured(const Capture::Report& r) {
  EXPECT_TRUE(r.listened) << "the capture never reported listening: " << r.log;
  EXPECT_GE(r.captured, 0) << "the capture did not report: " << r.log;
  EXPECT_EQ(r.dropped, 0) << "the capture lost packets: " << r.log;
  return r.captured;
}

// A suite whose tests share one chain (and one lab): Traits gives
// `static constexpr const char* kPrefix` (the instance name's prefix) and
// `kFile` (the chain file, relative to the source tree).
template <typename Traits>
class SharedChainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!HaveRoot()) return;
    inst_ = new TestInstance(fmt::format("{}-{}", Traits::kPrefix, ::getpid() % 100000));
    up_ = inst_->Qnet({"up", SourceDir() + "/" + Traits::kFile}, 120, kTestChainEnv);
  }
  static void TearDownTestSuite() {
    delete inst_;
    inst_ = nullptr;
  }
  void SetUp() override {
    if (!HaveRoot()) GTEST_SKIP() << "needs root (network namespaces, nftables)";
    ASSERT_EQ(up_.code, 0) << up_.out << up_.err;
  }
  static inline TestInstance* inst_ = nullptr;
  static inline CmdResult up_;
};

}  // namespace qnet::testing
