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

}  // namespace qnet::testing

#include <nlohmann/json.hpp>

namespace qnet::testing {
// Pids whose command line contains every one of the given words.
std::vector<int> FindPids(const std::vector<std::string>& words);
// The qube's row of `qnet ls --json` (null when absent).
nlohmann::json LsRow(const TestInstance& inst, const std::string& qube);
}  // namespace qnet::testing

#include <gtest/gtest.h>

namespace qnet::testing {

// A suite whose tests share one chain (and one lab): Traits gives
// `static constexpr const char* kPrefix` (the instance name's prefix) and
// `kFile` (the chain file, relative to the source tree).
template <typename Traits>
class SharedChainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!HaveRoot()) return;
    inst_ = new TestInstance(fmt::format("{}-{}", Traits::kPrefix, ::getpid() % 100000));
    up_ = inst_->Qnet({"up", SourceDir() + "/" + Traits::kFile});
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
