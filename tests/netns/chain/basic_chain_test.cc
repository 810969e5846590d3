// End-to-end: configs/basic.toml in the lab (issue "Foundation", done-when).
// One chain per suite; every test reads what a user would see.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"

namespace qnet::testing {
namespace {

using nlohmann::json;

struct BasicChainTraits {
  static constexpr const char* kPrefix = "qt-basic";
  static constexpr const char* kFile = "configs/basic.toml";
};

class BasicChain : public SharedChainTest<BasicChainTraits> {
 protected:
  static json Ls() {
    auto r = inst_->Qnet({"ls", "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  static json Row(const std::string& name) {
    for (const auto& row : Ls())
      if (row["name"] == name) return row;
    return json();
  }
};

TEST_F(BasicChain, CurlByAddress_WebServerSeesSysNetUplink) {
  auto r = inst_->Exec("work", {"curl", "-s", "--max-time", "10", "http://203.0.113.10/"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "198.51.100.2\n");
}

TEST_F(BasicChain, CurlByName_ResolvesThroughVirtualDnsAndLabDnsLogsSysNet) {
  auto r = inst_->Exec("work", {"curl", "-s", "--max-time", "10", "http://web.lab/"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "198.51.100.2\n");
  auto resolv = inst_->Exec("work", {"cat", "/etc/resolv.conf"});
  EXPECT_NE(resolv.out.find("nameserver 10.139.1.1"), std::string::npos) << resolv.out;
  std::ifstream log("/run/qnet/" + inst_->name() + "/lab/dns.log");
  std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_NE(text.find(" 198.51.100.2 "), std::string::npos) << text;
  EXPECT_NE(text.find("web.lab"), std::string::npos) << text;
}

TEST_F(BasicChain, Exec_PassesStdioAndExitCode) {
  auto r = inst_->Exec("work", {"sh", "-c", "echo out; echo err >&2; exit 7"});
  EXPECT_EQ(r.code, 7);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  auto id = inst_->Exec("work", {"id", "-u"});
  EXPECT_EQ(id.out, "1000\n");  // the qube's user, in the qube's user namespace
  auto rootid = inst_->Exec("work", {"id", "-u"}, /*root=*/true);
  EXPECT_EQ(rootid.out, "0\n");
  auto host = inst_->Exec("work", {"hostname"});
  EXPECT_EQ(host.out, "work\n");
}

TEST_F(BasicChain, Ls_ShowsEveryQubeRunningWithAddressesAndDropCounters) {
  json rows = Ls();
  ASSERT_EQ(rows.size(), 3u) << rows.dump();
  for (const auto& row : rows) {
    EXPECT_EQ(row["state"], "running") << row.dump();
    EXPECT_TRUE(row["drops"].is_object()) << row.dump();
  }
  EXPECT_EQ(Row("work")["netvm"], "sys-firewall");
  EXPECT_EQ(Row("work")["label"], "blue");
  auto table = inst_->Qnet({"ls"});
  EXPECT_NE(table.out.find("NAME"), std::string::npos);
  EXPECT_NE(table.out.find("sys-firewall"), std::string::npos);
}

TEST_F(BasicChain, Graph_IsDotWithLabelColours) {
  auto r = inst_->Qnet({"graph"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("digraph"), std::string::npos);
  EXPECT_NE(r.out.find("\"work\" -> \"sys-firewall\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("#3465a4"), std::string::npos) << r.out;  // blue
}

TEST_F(BasicChain, Save_WritesTheChainWithItsQubesAndFirewallList) {
  std::string path = fmt::format("/tmp/qnet-save-{}.toml", ::getpid());
  auto r = inst_->Qnet({"save", path});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream f(path);
  std::string text((std::istreambuf_iterator<char>(f)), {});
  std::filesystem::remove(path);
  EXPECT_NE(text.find("sys-firewall"), std::string::npos) << text;
  EXPECT_NE(text.find("firewall = [\"accept\"]"), std::string::npos) << text;
}

TEST_F(BasicChain, UpAgain_IsRefusedWhileTheChainIsUp) {
  auto r = inst_->Qnet({"up", SourceDir() + "/configs/basic.toml"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("is up; run `qnet down --all` first"), std::string::npos) << r.err;
}

TEST_F(BasicChain, DownNetvm_IsRefusedWithoutRecursive) {
  auto r = inst_->Qnet({"down", "sys-firewall"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("is the netvm of 'work'; use --recursive"), std::string::npos) << r.err;
}

TEST_F(BasicChain, NoRootNamespaceChange) {
  // The lab and the qubes live only in their namespaces: the host's links
  // carry no qnet name.
  auto r = RunCmd({"ip", "-o", "link", "show"});
  EXPECT_EQ(r.out.find("vif"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("uplink0"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace qnet::testing
