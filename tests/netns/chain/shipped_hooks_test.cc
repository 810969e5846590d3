// The test hooks (admin.TestReload / qnet.TestReload with its unsafe
// delete-and-re-add reload, QNET_TEST_HOLD_LOCKDOWN and --hold-lockdown,
// QNET_TEST_REFRESH_FLOOR and --refresh-floor) exist only in the
// QNET_TEST_HOOKS builds (qnet-test, qnetd-test, qnet-agent-test). The
// programs `cmake --install` ships refuse them, and refusing changes nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "harness.h"

namespace qnet::testing {
namespace {

using namespace std::chrono_literals;

std::string FileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The program a process runs, by its /proc/PID/exe.
std::string ExeName(int pid) {
  std::error_code ec;
  return std::filesystem::read_symlink(fmt::format("/proc/{}/exe", pid), ec).filename().string();
}

// The handle of the qube's qnet table: a new one after a delete and re-add.
std::string TableHandle(const TestInstance& inst, const std::string& qube) {
  auto r = inst.InNetns(qube, {"nft", "-a", "list", "table", "inet", "qnet"});
  const size_t at = r.out.find("# handle ");
  return at == std::string::npos ? "" : r.out.substr(at, r.out.find('\n', at) - at);
}

const char* const kHookWords[] = {"TestReload",      "QNET_TEST_HOLD_LOCKDOWN",
                                  "--hold-lockdown", "QNET_TEST_REFRESH_FLOOR",
                                  "--refresh-floor", "test-reload"};

TEST(ShippedHooks, ShippedBinariesCarryNoHook_TheTestVariantsDo) {
  for (const char* program : {"qnet", "qnetd", "qnet-agent"}) {
    const std::string shipped = FileText(Bin(program));
    const std::string test = FileText(Bin(std::string(program) + "-test"));
    ASSERT_FALSE(shipped.empty()) << program;
    bool any_in_test = false;
    for (const char* word : kHookWords) {
      EXPECT_EQ(shipped.find(word), std::string::npos) << program << " carries " << word;
      any_in_test = any_in_test || test.find(word) != std::string::npos;
    }
    EXPECT_TRUE(any_in_test) << program << "-test carries no hook: the check sees nothing";
  }
}

TEST(ShippedHooks, ShippedAgent_RefusesTheHookFlags) {
  for (const char* flag : {"--hold-lockdown", "--refresh-floor"}) {
    auto r = RunCmd({Bin("qnet-agent"), "agent", "--qube", "x", "--control-fd", "3", flag, "4"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, fmt::format("qnet-agent: unknown flag {}\n", flag));
  }
}

TEST(ShippedHooks, ShippedQnetd_IgnoresTheHoldAndRefusesTestReload) {
  if (!HaveRoot()) GTEST_SKIP() << "needs root (network namespaces, nftables)";
  TestInstance inst(fmt::format("qt-ship-{}", ::getpid() % 100000));
  // The shipped CLI starts the shipped qnetd; a hold it does not know
  // would have kept `up` waiting 20 s.
  const auto start = std::chrono::steady_clock::now();
  auto up = inst.ShippedQnet({"up", SourceDir() + "/configs/basic.toml"}, 120,
                             {"QNET_TEST_HOLD_LOCKDOWN=work:20"});
  ASSERT_EQ(up.code, 0) << up.out << up.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s) << "the shipped qnetd held a lockdown";
  const auto qnetd = FindPids({"qnetd", "--instance", inst.name()});
  ASSERT_EQ(qnetd.size(), 1u);
  EXPECT_EQ(ExeName(qnetd[0]), "qnetd");
  // The shipped CLI has no test-reload; the test CLI's request is refused
  // by the shipped qnetd, and the table stays the same table.
  EXPECT_NE(inst.ShippedQnet({"test-reload", "sys-firewall", "1", "--unsafe"}).code, 0);
  const std::string handle = TableHandle(inst, "sys-firewall");
  ASSERT_FALSE(handle.empty());
  auto r = inst.Qnet({"test-reload", "sys-firewall", "1", "--unsafe"});
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.err.find("admin.TestReload"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(TableHandle(inst, "sys-firewall"), handle);
  auto c = inst.Exec("work", {"curl", "-sS", "--max-time", "5", "http://203.0.113.10/"});
  EXPECT_EQ(c.out, "198.51.100.2\n") << c.err;
}

TEST(ShippedHooks, ShippedAgent_RefusesTestReload) {
  if (!HaveRoot()) GTEST_SKIP() << "needs root (network namespaces, nftables)";
  TestInstance inst(fmt::format("qt-shipa-{}", ::getpid() % 100000));
  // qnetd-test, told to run the shipped agent in every qube.
  auto up =
      inst.Qnet({"up", SourceDir() + "/configs/basic.toml"}, 120, {"QNET_TEST_AGENT=qnet-agent"});
  ASSERT_EQ(up.code, 0) << up.out << up.err;
  const auto agents = FindPids({"qnet-agent", inst.name(), "sys-firewall"});
  ASSERT_FALSE(agents.empty());
  for (int pid : agents) EXPECT_EQ(ExeName(pid), "qnet-agent") << pid;
  const std::string handle = TableHandle(inst, "sys-firewall");
  ASSERT_FALSE(handle.empty());
  // Positive control: qnetd-test forwards the call (a qube it does not know
  // is its own error, not a refusal of the service).
  auto unknown = inst.Qnet({"test-reload", "no-such-qube", "1"});
  EXPECT_NE(unknown.err.find("'no-such-qube' is not running"), std::string::npos) << unknown.err;
  auto r = inst.Qnet({"test-reload", "sys-firewall", "1", "--unsafe"});
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.err.find("qnet.TestReload"), std::string::npos) << r.err;
  EXPECT_EQ(TableHandle(inst, "sys-firewall"), handle);
  auto c = inst.Exec("work", {"curl", "-sS", "--max-time", "5", "http://203.0.113.10/"});
  EXPECT_EQ(c.out, "198.51.100.2\n") << c.err;
}

}  // namespace
}  // namespace qnet::testing
