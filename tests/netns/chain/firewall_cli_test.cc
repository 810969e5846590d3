// End-to-end: `qnet firewall` behaves as qvm-firewall does (one rule from
// all the words of `add` and `del`, --rule-no, --raw, --reload, `set FILE`,
// JSON in the rule language's field names, an empty list that drops
// everything), checked with real traffic from `work` through sys-firewall
// to the lab (web 203.0.113.10: HTTP 80, TCP echo 7; DNS through the
// virtual DNS). Also: `qnet ls --json`, `qnet exec` of a missing command,
// and every qube's ruleset surviving `nft list ruleset` | `nft -f`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "harness.h"

namespace qnet::testing {
namespace {

struct FirewallCliTraits {
  static constexpr const char* kPrefix = "qt-fwcli";
  static constexpr const char* kFile = "tests/netns/chain/data/firewall_cli.toml";
};

class FirewallCli : public SharedChainTest<FirewallCliTraits> {
 protected:
  void SetUp() override {
    SharedChainTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    auto r = Fw({"reset"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
  }
  static CmdResult Fw(std::vector<std::string> args) {
    args.insert(args.begin(), {"firewall", "work"});
    return inst_->Qnet(args);
  }
  static std::string Raw() { return Fw({"list", "--raw"}).out; }
  // "connected", or the error the sender sees (ConnectionRefusedError for
  // the reset sys-firewall sends for a dropped TCP connection).
  static std::string Tcp(int port) {
    return inst_
        ->Exec("work", {"python3", "-c",
                        "import socket,sys\n"
                        "try:\n"
                        "  socket.create_connection(('203.0.113.10',int(sys.argv[1])),timeout=3)\n"
                        "  print('connected')\n"
                        "except OSError as e: print(type(e).__name__)\n",
                        std::to_string(port)})
        .out;
  }
  // A name resolved through the virtual DNS (sys-firewall's DNAT): exit 0
  // and the address, or a failure.
  static CmdResult Resolve() { return inst_->Exec("work", {"getent", "ahostsv4", "web.lab"}); }
};

TEST_F(FirewallCli, Add_AllWordsFormOneRuleInEveryForm) {
  auto a = Fw({"add", "drop", "dsthost=203.0.113.10", "proto=tcp", "dstports=80"});
  ASSERT_EQ(a.code, 0) << a.err;
  const std::string kDrop80 = "action=drop proto=tcp dst4=203.0.113.10/32 dstports=80-80\n";
  // Editing the default list makes its accept explicit first (rule 0).
  EXPECT_EQ(Raw(), "action=accept\n" + kDrop80);
  // The same rule positionally and mixed, dst4 as dsthost's synonym.
  ASSERT_EQ(Fw({"reset"}).code, 0);
  ASSERT_EQ(Fw({"add", "--before", "0", "drop", "203.0.113.10", "tcp", "80"}).code, 0);
  EXPECT_EQ(Raw(), kDrop80 + "action=accept\n");
  ASSERT_EQ(Fw({"add", "--before", "0", "drop", "dst4=203.0.113.10", "tcp", "80"}).code, 0);
  EXPECT_EQ(Raw(), kDrop80 + kDrop80 + "action=accept\n");
  // Enforced: port 80 refused, the echo port and DNS still reachable.
  EXPECT_EQ(Tcp(80), "ConnectionRefusedError\n");
  EXPECT_EQ(Tcp(7), "connected\n");
  // del: the rule from all its words, or its number (as N or --rule-no N).
  ASSERT_EQ(Fw({"del", "drop", "203.0.113.10", "proto=tcp", "dstports=80"}).code, 0);
  EXPECT_EQ(Raw(), kDrop80 + "action=accept\n");
  auto d = Fw({"del", "--rule-no", "0"});
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_EQ(Raw(), "action=accept\n");
  EXPECT_EQ(Tcp(80), "connected\n");
  // expire=+N is anchored at the time of the call.
  ASSERT_EQ(Fw({"add", "drop", "proto=udp", "expire=+600"}).code, 0);
  auto j = nlohmann::json::parse(Fw({"list", "--json"}).out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << j.dump();
  const int64_t left = j["rules"][1]["expire"].get<int64_t>() - ::time(nullptr);
  EXPECT_GT(left, 590);
  EXPECT_LE(left, 600);
}

// The exact walk of the audit: `del accept` leaves an empty list (shown as
// the table's footer) that drops everything, and rules added after it are
// the list, in order: DNS and the web behave as the list says.
TEST_F(FirewallCli, DelLastRule_LeavesAnEmptyListAndRulesAddedAfterItMatch) {
  ASSERT_EQ(Tcp(80), "connected\n");  // positive control: the default accepts
  auto d = Fw({"del", "accept"});
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_EQ(d.out, "firewall work: no rules: everything is dropped\n");
  EXPECT_EQ(Raw(), "");
  auto l = Fw({"list"});
  EXPECT_EQ(l.out.substr(l.out.find('\n') + 1), "(no rules: everything is dropped)\n") << l.out;
  EXPECT_EQ(Tcp(80), "ConnectionRefusedError\n");
  EXPECT_NE(Resolve().code, 0);

  ASSERT_EQ(Fw({"add", "drop", "dsthost=203.0.113.10", "proto=tcp", "dstports=80"}).code, 0);
  EXPECT_EQ(Tcp(7), "ConnectionRefusedError\n");  // nothing accepts yet
  auto a = Fw({"add", "accept"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(Raw(),
            "action=drop proto=tcp dst4=203.0.113.10/32 dstports=80-80\n"
            "action=accept\n");
  EXPECT_EQ(Tcp(80), "ConnectionRefusedError\n");
  EXPECT_EQ(Tcp(7), "connected\n");
  auto r = Resolve();
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("203.0.113.10"), std::string::npos) << r.out;
}

TEST_F(FirewallCli, ListJson_UsesTheRuleLanguagesFieldNamesNumbersAndNull) {
  ASSERT_EQ(
      Fw({"add", "accept", "dsthost=web.lab", "proto=tcp", "dstports=80-443", "comment=the web"})
          .code,
      0);
  ASSERT_EQ(Fw({"add", "drop", "203.0.113.0/24", "icmp", "8"}).code, 0);
  auto j = nlohmann::json::parse(Fw({"list", "--json"}).out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << j.dump();
  ASSERT_EQ(j["rules"].size(), 3u) << j.dump();
  const auto& all = j["rules"][0];
  EXPECT_EQ(all["number"], 0);
  EXPECT_EQ(all["action"], "accept");
  for (const char* k :
       {"dsthost", "proto", "dstports", "icmptype", "specialtarget", "expire", "comment"})
    EXPECT_TRUE(all[k].is_null()) << k << ": " << all.dump();
  EXPECT_TRUE(all["hits"].is_number()) << all.dump();
  const auto& web = j["rules"][1];
  EXPECT_EQ(web["dsthost"], "web.lab");
  EXPECT_EQ(web["proto"], "tcp");
  EXPECT_EQ(web["dstports"], "80-443");
  EXPECT_EQ(web["comment"], "the web");
  const auto& icmp = j["rules"][2];
  EXPECT_EQ(icmp["number"], 2);
  EXPECT_EQ(icmp["dsthost"], "203.0.113.0/24");
  EXPECT_TRUE(icmp["icmptype"].is_number()) << icmp.dump();
  EXPECT_EQ(icmp["icmptype"], 8);
  EXPECT_TRUE(j["error"].is_null()) << j.dump();
}

TEST_F(FirewallCli, SetFile_ReplacesTheListAndABadLineNamesFileLineAndField) {
  char path[] = "/tmp/qnet-fwcli-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  struct Unlink {
    const char* p;
    ~Unlink() { ::unlink(p); }
  } unlink_file{path};
  std::ofstream(path) << "# work: the web only\n"
                         "drop dst4=203.0.113.10 proto=tcp dstports=7\n"
                         "\n"
                         "accept proto=tcp\n";
  auto s = Fw({"set", path});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(Raw(),
            "action=drop proto=tcp dst4=203.0.113.10/32 dstports=7-7\n"
            "action=accept proto=tcp\n");
  EXPECT_EQ(Tcp(7), "ConnectionRefusedError\n");
  EXPECT_EQ(Tcp(80), "connected\n");
  EXPECT_NE(Resolve().code, 0);  // UDP to the DNS: not in the list

  // A bad line: refused naming the file, the line and the field; nothing changes.
  const std::string before = Raw();
  std::ofstream(path) << "accept\naccept proto=tcp dstports=99999\n";
  auto bad = Fw({"set", path});
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err, fmt::format("qnet: {}:2: dstports: port 99999 out of range 0-65535\n", path));
  EXPECT_EQ(Raw(), before);

  // '-' reads stdin; an empty file is the empty list.
  auto in =
      RunCmd({"sh", "-c",
              fmt::format("printf 'accept proto=udp\\n' | {} --instance {} firewall work set -",
                          Bin("qnet"), inst_->name())});
  ASSERT_EQ(in.code, 0) << in.err;
  EXPECT_EQ(Raw(), "action=accept proto=udp\n");
  std::ofstream(path) << "";
  ASSERT_EQ(Fw({"set", path}).code, 0);
  EXPECT_EQ(Raw(), "");
  EXPECT_EQ(Tcp(80), "ConnectionRefusedError\n");
}

TEST_F(FirewallCli, Reload_AppliesTheListAgainAloneOrWithAList) {
  ASSERT_EQ(Fw({"add", "drop", "203.0.113.10", "tcp", "80"}).code, 0);
  auto r = Fw({"--reload"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto l = Fw({"--reload", "list", "--raw"});
  EXPECT_EQ(l.code, 0) << l.err;
  EXPECT_EQ(l.out, "action=accept\naction=drop proto=tcp dst4=203.0.113.10/32 dstports=80-80\n");
  EXPECT_EQ(Tcp(80), "connected\n");  // the accept comes first
}

// What Qubes' validation refuses is refused here, the field named, and
// nothing changes.
TEST_F(FirewallCli, BadRules_RefusedWithTheFieldNamed) {
  struct Bad {
    std::vector<std::string> args;
    std::string error;
  };
  const std::vector<Bad> table = {
      {{"add", "accept", "accept"},
       "qnet: rule 'accept accept': dsthost: 'accept' is an action, not a hostname (one action "
       "per rule)\n"},
      {{"add", "accept", "dsthost=-web.lab"},
       "qnet: rule 'accept dsthost=-web.lab': dsthost: '-web.lab' is not a hostname (RFC 1123: a "
       "label starts and ends with a letter or digit)\n"},
      {{"add", "accept", "dsthost=0xcb00710a"},
       "qnet: rule 'accept dsthost=0xcb00710a': dsthost: '0xcb00710a' is not a hostname "
       "(resolvers read it as the IPv4 address 203.0.113.10: write dst4=203.0.113.10)\n"},
      {{"add", "accept", "dst4=203.0.113.10/24"},
       "qnet: rule 'accept dst4=203.0.113.10/24': dst4: 203.0.113.10/24 has host bits set (the "
       "network is 203.0.113.0/24)\n"},
      {{"add", "accept", "comment=" + std::string(300, 'c')},
       "qnet: rule 'accept comment=" + std::string(300, 'c') +
           "': comment: 300 characters, at most 256 allowed\n"},
      {{"del", "--rule-no", "x"}, "qnet: --rule-no: 'x' is not a rule number (0 = first)\n"},
      {{"add", "--before", "-1", "accept"},
       "qnet: --before: '-1' is not a rule number (0 = first)\n"},
  };
  const std::string before = Raw();
  for (const Bad& b : table) {
    auto r = Fw(b.args);
    EXPECT_NE(r.code, 0) << b.args[1];
    EXPECT_EQ(r.err, b.error) << b.args[1];
  }
  EXPECT_EQ(Raw(), before);
}

TEST_F(FirewallCli, Exec_AMissingCommandIsNamedAsAShellDoesAndExits127) {
  auto r = inst_->Exec("work", {"no-such-command"});
  EXPECT_EQ(r.code, 127);
  EXPECT_NE(r.err.find("no-such-command: command not found"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("qnet-agent"), std::string::npos) << r.err;
  EXPECT_EQ(inst_->Exec("work", {"true"}).code, 0);  // positive control
}

TEST_F(FirewallCli, LsJson_NullForWhatAQubeDoesNotHave) {
  auto r = inst_->Qnet({"ls", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << r.out;
  int seen = 0;
  for (const auto& row : j) {
    if (row["name"] == "sys-net") {
      EXPECT_TRUE(row["netvm"].is_null()) << row.dump();
      ++seen;
    }
    if (row["name"] == "work") {
      EXPECT_EQ(row["netvm"], "sys-firewall") << row.dump();
      EXPECT_TRUE(row["id"].is_number()) << row.dump();
      EXPECT_TRUE(row["pid"].is_number()) << row.dump();
      ++seen;
    }
  }
  EXPECT_EQ(seen, 2) << r.out;
}

// What `nft list` shows of a qube is what the kernel holds: loaded into a
// scratch namespace with `nft -f`, it lists the same again. Every set and
// data map of every qube (ifname keys print as "vif3.0", never ""), and the
// whole ruleset of every qube, sys-firewall's with hostname rules of both
// actions (host sets with and without timeouts) and expiring rules.
TEST_F(FirewallCli, NftList_SetsMapsAndRulesetsRoundTripThroughNftF) {
  ASSERT_EQ(Fw({"add", "drop", "dsthost=web.lab", "proto=tcp", "dstports=7"}).code, 0);
  ASSERT_EQ(Fw({"add", "accept", "dsthost=web.lab", "proto=tcp", "dstports=80-443"}).code, 0);
  ASSERT_EQ(
      Fw({"add", "accept", "dst4=203.0.113.0/24", "proto=icmp", "icmptype=8", "expire=+600"}).code,
      0);
  ASSERT_EQ(Fw({"add", "drop", "proto=udp", "dstports=9", "expire=+600"}).code, 0);
  const std::string scratch = inst_->name() + "-scratch";
  struct Netns {
    std::string name;
    ~Netns() { RunCmd({"ip", "netns", "del", name}); }
  } ns{scratch};
  ASSERT_EQ(RunCmd({"ip", "netns", "add", scratch}).code, 0);
  char path[] = "/tmp/qnet-ruleset-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  struct Unlink {
    const char* p;
    ~Unlink() { ::unlink(p); }
  } unlink_file{path};
  // A set element's "expires 1m29s980ms" counts down between two listings.
  auto without_expiry = [](const std::string& text) {
    static const std::regex kExpires(" expires [0-9hms]+");
    return std::regex_replace(text, kExpires, "");
  };
  // Loads `text` into the scratch namespace alone and lists it back.
  auto round_trip = [&](const std::string& what, const std::string& text,
                        std::vector<std::string> list) {
    std::ofstream(path) << text;
    RunCmd({"ip", "netns", "exec", scratch, "nft", "flush", "ruleset"});
    auto load = RunCmd({"ip", "netns", "exec", scratch, "nft", "-f", path});
    EXPECT_EQ(load.code, 0) << what << ": " << load.err << "\n" << text;
    list.insert(list.begin(), {"ip", "netns", "exec", scratch, "nft", "list"});
    auto again = RunCmd(list);
    EXPECT_EQ(without_expiry(again.out), without_expiry(text)) << what;
  };
  int sets = 0;
  for (const char* qube : {"sys-net", "sys-firewall", "work"}) {
    auto j = nlohmann::json::parse(
        inst_->InNetns(qube, {"nft", "-j", "list", "table", "inet", "qnet"}).out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << qube;
    for (const auto& o : j["nftables"]) {
      for (const char* kind : {"set", "map"}) {
        if (!o.contains(kind)) continue;
        // Verdict maps jump to chains: they load only with them (the
        // ruleset round trip below carries sys-net's).
        if (o[kind].value("map", "") == "verdict") continue;
        const std::string name = o[kind]["name"];
        auto listed = inst_->InNetns(qube, {"nft", "list", kind, "inet", "qnet", name});
        ASSERT_EQ(listed.code, 0) << listed.err;
        EXPECT_EQ(listed.out.find("\"\""), std::string::npos) << qube << ":\n" << listed.out;
        round_trip(fmt::format("{} {} {}", qube, kind, name), listed.out,
                   {kind, "inet", "qnet", name});
        ++sets;
      }
    }
  }
  EXPECT_GE(sets, 6);
  for (const char* qube : {"sys-net", "sys-firewall", "work"}) {
    auto listed = inst_->InNetns(qube, {"nft", "list", "ruleset"});
    ASSERT_EQ(listed.code, 0) << qube << ": " << listed.err;
    ASSERT_NE(listed.out.find("table inet qnet"), std::string::npos) << listed.out;
    round_trip(qube, listed.out, {"ruleset"});
  }
  // Positive control: sys-firewall's listing holds the rules added above,
  // as nft names them (never a raw `@nh` field).
  auto fw = inst_->InNetns("sys-firewall", {"nft", "list", "ruleset"}).out;
  for (const char* want : {"ip daddr @fw-", "tcp dport 80-443",
                           "ip daddr 203.0.113.0/24 icmp type echo-request meta time >=",
                           "udp dport 9 meta time <", "timeout"}) {
    EXPECT_NE(fw.find(want), std::string::npos) << want << " not in:\n" << fw;
  }
  EXPECT_EQ(fw.find("@nh,"), std::string::npos) << fw;
  auto set = inst_->InNetns("sys-firewall", {"nft", "list", "set", "inet", "qnet", "fw-vifs"});
  EXPECT_NE(set.out.find("\"vif3.0\""), std::string::npos) << set.out;
}

}  // namespace
}  // namespace qnet::testing
