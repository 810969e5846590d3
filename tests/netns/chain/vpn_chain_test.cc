// The vpn qube in a chain (work -> sys-vpn -> sys-firewall -> sys-net -> lab)
// with the userspace backend: its kill switch is in force from the first
// configure, and wireguard-go runs supervised by the qube's init, as the
// qube's root, in a network namespace of its own; SIGKILLed it comes back
// in the same namespace. The lab serves no WireGuard in this suite, so no
// tunnel carries traffic: the workstation reaches nothing (the kill switch
// is closed), while the vpn qube's own netvm still reaches the lab.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "harness.h"

namespace qnet::testing {
namespace {

using namespace std::chrono_literals;

struct VpnTraits {
  static constexpr const char* kPrefix = "qt-vpn";
  static constexpr const char* kFile = "tests/netns/chain/data/vpn-local.toml";
};

ino_t Inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// A field of /proc/PID/status ("PPid", "Uid": its first number).
long StatusField(int pid, const std::string& field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

std::vector<std::string> Argv(int pid) {
  std::ifstream in(fmt::format("/proc/{}/cmdline", pid));
  std::vector<std::string> out;
  for (std::string a; std::getline(in, a, '\0');) out.push_back(a);
  return out;
}

class VpnChain : public SharedChainTest<VpnTraits> {
 protected:
  // The pid (host view) of sys-vpn's init.
  // (A child the init has just forked shows the init's command line until
  // it execs: the init is the one whose parent is not an init.)
  static int InitPid() {
    std::vector<int> inits, top;
    for (int p : FindPids({"--qube", "sys-vpn", "--instance", inst_->name()}))
      if (Argv(p).size() > 1 && Argv(p)[1] == "init") inits.push_back(p);
    for (int p : inits)
      if (std::find(inits.begin(), inits.end(), StatusField(p, "PPid")) == inits.end())
        top.push_back(p);
    return top.size() == 1 ? top[0] : -1;
  }
  // sys-vpn's wireguard-go: a child of its init (-1: none, or several).
  static int WireguardGo() {
    int init = InitPid();
    std::vector<int> mine;
    for (int p : FindPids({"wireguard-go", "-f", "wg0"}))
      if (StatusField(p, "PPid") == init) mine.push_back(p);
    return mine.size() == 1 ? mine[0] : -1;
  }
  static int WaitForWireguardGo(int not_pid, std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      int p = WireguardGo();
      if (p > 0 && p != not_pid) return p;
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }
};

TEST_F(VpnChain, WireguardGo_RunsSupervisedInItsOwnNetns_AndComesBackAfterSigkill) {
  ASSERT_GT(InitPid(), 0);
  int first = WaitForWireguardGo(-1, 10s);
  ASSERT_GT(first, 0) << "sys-vpn's init runs no wireguard-go";
  const std::string qube_ns = "/run/netns/" + inst_->netns("sys-vpn");
  const std::string wg_ns = fmt::format("/proc/{}/ns/net", first);
  ASSERT_NE(Inode(qube_ns), 0u);
  EXPECT_NE(Inode(wg_ns), Inode(qube_ns))
      << "wireguard-go must not run in the vpn qube's namespace";
  EXPECT_NE(StatusField(first, "Uid"), 0) << "wireguard-go runs as the qube's root, not the host's";
  const ino_t first_ns = Inode(wg_ns);
  // Its TUN device is in its own namespace, not the qube's.
  auto links = RunCmd({"nsenter", "--net=" + wg_ns, "ip", "-o", "link", "show", "wg0"});
  EXPECT_EQ(links.code, 0) << links.err;
  EXPECT_NE(inst_->InNetns("sys-vpn", {"ip", "link", "show", "wg0"}).code, 0);

  ASSERT_EQ(::kill(first, SIGKILL), 0);
  int second = WaitForWireguardGo(first, 5s);
  ASSERT_GT(second, 0) << "wireguard-go did not come back";
  EXPECT_EQ(Inode(fmt::format("/proc/{}/ns/net", second)), first_ns)
      << "a restarted wireguard-go keeps its network namespace";
}

TEST_F(VpnChain, WireguardGo_SurvivesAnAgentCrashUntouched) {
  int wg = WaitForWireguardGo(-1, 10s);
  ASSERT_GT(wg, 0);
  auto agents = [] {
    std::vector<int> out;
    for (int p : FindPids({"--qube", "sys-vpn", "--instance", inst_->name()}))
      if (Argv(p).size() > 1 && Argv(p)[1] == "agent") out.push_back(p);
    return out;
  };
  auto before = agents();
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(::kill(before[0], SIGKILL), 0);
  // The init starts a new agent, which publishes the same wanted list: the
  // daemon is neither stopped nor restarted.
  auto end = std::chrono::steady_clock::now() + 10s;
  std::vector<int> after;
  while (std::chrono::steady_clock::now() < end) {
    after = agents();
    if (after.size() == 1 && after[0] != before[0]) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(after[0], before[0]) << "the agent did not come back";
  std::this_thread::sleep_for(2s);  // the new agent's first ticks
  EXPECT_EQ(WireguardGo(), wg) << "wireguard-go must outlive an agent crash unrestarted";
}

TEST_F(VpnChain, KillSwitch_WorkReachesNothingWithoutATunnel) {
  // Positive control: the vpn qube's netvm reaches the lab's web server.
  auto control = inst_->Exec("sys-firewall", {"curl", "-s", "-m", "5", "http://203.0.113.10/"});
  ASSERT_EQ(control.code, 0) << control.err;
  EXPECT_FALSE(control.out.empty());
  for (const std::vector<std::string>& probe :
       {std::vector<std::string>{"curl", "-s", "-m", "3", "http://203.0.113.10/"},
        std::vector<std::string>{"ping", "-c", "1", "-W", "2", "203.0.113.10"},
        std::vector<std::string>{"getent", "hosts", "web.lab.test"}}) {
    SCOPED_TRACE(fmt::format("{}", fmt::join(probe, " ")));
    auto r = inst_->Exec("work", probe, false, 30);
    EXPECT_NE(r.code, 0) << r.out;
  }
  // The kill switch's chains are in sys-vpn's table.
  auto chain = inst_->InNetns("sys-vpn", {"nft", "list", "chain", "inet", "qnet", "vpn-forward"});
  EXPECT_EQ(chain.code, 0) << chain.err;
  EXPECT_NE(chain.out.find("vpn-drop-forward"), std::string::npos) << chain.out;
}

TEST(VpnChainConfig, AWgQuickFileWithPostUpIsRefusedWithItsLine) {
  if (!HaveRoot()) GTEST_SKIP() << "needs root (qnetd)";
  TestInstance inst(fmt::format("qt-vpnbad-{}", ::getpid() % 100000));
  auto r = inst.Qnet({"up", SourceDir() + "/tests/netns/chain/data/vpn-postup.toml"}, 120,
                     kTestChainEnv);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("qube.sys-vpn.wireguard: vpn-postup.conf:3: PostUp:"), std::string::npos)
      << r.err;
  // Refused before any qube ran.
  EXPECT_EQ(Inode("/run/netns/" + inst.netns("sys-vpn")), 0u);
}

}  // namespace
}  // namespace qnet::testing
