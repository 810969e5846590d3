// Bad chain files through `qnet up`: the exact error on stderr, a non-zero
// exit, and nothing created (contract 9). The full table of parser errors
// is tests/unit/config/chain_file_errors_test.cc; these go through the CLI,
// qnetd and the role modules' own key validators.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "harness.h"

namespace qnet::testing {
namespace {

struct BadFile {
  const char* name;
  std::string text;
  std::string error;  // after "qnet: <path>:"
};

const std::string kHead =
    "[chain]\nname = \"x\"\n[lab]\n[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\n";

const BadFile kBadFiles[] = {
    {"syntax", "[chain\nname = \"x\"\n", "1:7: syntax error"},
    {"unknown_netvm", kHead + "[qube.work]\nrole = \"app\"\nlabel = \"blue\"\nnetvm = \"sys-fw\"\n",
     "10:9: qube.work.netvm: unknown netvm 'sys-fw' (known: sys-net)"},
    {"bad_label", kHead + "[qube.work]\nrole = \"app\"\nlabel = \"pink\"\n",
     "9:9: qube.work.label: unknown label 'pink'"},
    {"firewall_rule",
     kHead + "[qube.work]\nrole = \"app\"\nlabel = \"blue\"\nnetvm = \"sys-net\"\n"
             "firewall = [\"accept\", \"drop dsthost=1.2.3.4 proto=tcp dstports=99999\"]\n",
     "11:1: qube.work.firewall: rule 1 (drop dsthost=1.2.3.4 proto=tcp dstports=99999): "
     "dstports: port 99999 out of range 0-65535"},
    {"wireguard_type",
     kHead + "[qube.vpn]\nrole = \"vpn\"\nlabel = \"red\"\nnetvm = \"sys-net\"\n"
             "wireguard = 5\n",
     "11:1: qube.vpn.wireguard: expected a string (\"lab\" or a wg-quick file), got integer"},
    {"cycle",
     "[chain]\nname = \"x\"\n[lab]\n[qube.sys-net]\nrole = \"net\"\nlabel = \"red\"\n"
     "[qube.a]\nrole = \"firewall\"\nlabel = \"red\"\nnetvm = \"b\"\n"
     "[qube.b]\nrole = \"vpn\"\nlabel = \"red\"\nnetvm = \"a\"\n",
     "10:9: qube.a.netvm: netvm cycle: a -> b -> a"},
};

TEST(ConfigErrors, BadFilesGetTheirExactErrorAndChangeNothing) {
  if (!HaveRoot()) GTEST_SKIP() << "needs root (qnetd)";
  TestInstance inst(fmt::format("qt-cfg-{}", ::getpid() % 100000));
  const std::string dir = fmt::format("/tmp/qnet-cfg-{}", ::getpid());
  std::filesystem::create_directories(dir);
  for (const BadFile& f : kBadFiles) {
    const std::string path = dir + "/" + f.name + ".toml";
    std::ofstream(path) << f.text;
    auto r = inst.Qnet({"up", path});
    EXPECT_EQ(r.code, 1) << f.name;
    EXPECT_EQ(r.err.rfind("qnet: " + path + ":" + f.error, 0), 0u) << f.name << ": got " << r.err;
    auto ls = inst.Qnet({"ls", "--json"});
    EXPECT_EQ(ls.out, "[]\n") << f.name;
  }
  std::filesystem::remove_all(dir);
  auto missing = inst.Qnet({"up", dir + "/none.toml"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "qnet: open " + dir + "/none.toml: No such file or directory\n");
}

// The whole chain of docs/architecture.md with one change: anon-ws, behind the tor
// gateway, asks for a firewall list. Refused by `qnet up` before anything
// exists: no namespace of the instance appears while `up` runs.
TEST(ConfigErrors, TorGatewayClient_NonDefaultFirewallIsRefusedBeforeAnythingIsCreated) {
  if (!HaveRoot()) GTEST_SKIP() << "needs root (qnetd)";
  TestInstance inst(fmt::format("qt-cfgtor-{}", ::getpid() % 100000));
  const std::string path = SourceDir() + "/tests/netns/chain/data/tor-client-firewall.toml";
  std::atomic<bool> done{false};
  std::set<std::string> seen;
  std::thread watcher([&] {
    const std::string prefix = inst.name() + "-";
    // Bounded by `up`'s own timeout (the harness kills it after 120 s).
    for (int i = 0; i < 30000 && !done; ++i) {
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec))
        if (e.path().filename().string().rfind(prefix, 0) == 0)
          seen.insert(e.path().filename().string());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  auto r = inst.Qnet({"up", path});
  done = true;
  watcher.join();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.err, "qnet: " + path +
                       ":27:1: qube.anon-ws.firewall: a tor gateway (sys-whonix) carries only "
                       "Tor: its clients accept only the default firewall list [\"accept\"]\n");
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(seen.empty()) << "created by a refused up: "
                            << fmt::format("{}", fmt::join(seen, ", "));
  EXPECT_EQ(inst.Qnet({"ls", "--json"}).out, "[]\n");

  // The same for a gateway straight on sys-net and a longer list.
  const std::string dir = fmt::format("/tmp/qnet-cfgtor-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const std::string inline_path = dir + "/tor_client_firewall.toml";
  std::ofstream(inline_path)
      << kHead
      << "[qube.gw]\nrole = \"tor\"\nlabel = \"black\"\nnetvm = \"sys-net\"\n"
         "[qube.anon]\nrole = \"app\"\nlabel = \"red\"\nnetvm = \"gw\"\n"
         "firewall = [\"accept dsthost=web.lab\", \"drop\"]\n";
  auto r2 = inst.Qnet({"up", inline_path});
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r2.code, 1) << r2.out;
  EXPECT_EQ(r2.err, "qnet: " + inline_path +
                        ":15:1: qube.anon.firewall: a tor gateway (gw) carries only Tor: its "
                        "clients accept only the default firewall list [\"accept\"]\n");
  EXPECT_EQ(inst.Qnet({"ls", "--json"}).out, "[]\n");
}

}  // namespace
}  // namespace qnet::testing
