// Qube isolation (docs/isolation.md, contract 10) and netvm basics (contract 8),
// as a process run by `qnet exec` sees them. Every refusal is checked to
// come from the tool that was refused (its own error on stderr), so that a
// `qnet exec` that fails by itself cannot pass for isolation; every probe
// that must not arrive has one beside it that must.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "harness.h"

namespace qnet::testing {
namespace {

struct IsolationTraits {
  static constexpr const char* kPrefix = "qt-iso";
  static constexpr const char* kFile = "tests/netns/chain/data/two-apps.toml";
};

class Isolation : public SharedChainTest<IsolationTraits> {
 protected:
  // The tool ran in the qube and refused with its own error (exit code, and
  // its name at the start of stderr), rather than `qnet exec` failing.
  static void ExpectToolRefused(const CmdResult& r, int code, const std::string& tool) {
    EXPECT_EQ(r.code, code) << r.out << r.err;
    EXPECT_EQ(r.err.rfind(tool + ": ", 0), 0u) << r.err;
  }
};

TEST_F(Isolation, CannotOpenAnotherQubesNetworkNamespace) {
  // Positive control: the same commands work on what the qube may see.
  EXPECT_EQ(inst_->Exec("work", {"ls", "/proc/self/ns/net"}).code, 0);
  EXPECT_EQ(inst_->Exec("work", {"cat", "/proc/self/comm"}).out, "cat\n");
  // Neither the pins nor other qubes' /proc entries are visible, and nsenter
  // without privileges fails anyway.
  ExpectToolRefused(inst_->Exec("work", {"ls", "/run/netns"}), 2, "ls");
  ExpectToolRefused(inst_->Exec("work", {"cat", "/run/netns/" + inst_->netns("personal")}), 1,
                    "cat");
  auto procs = inst_->Exec("work", {"sh", "-c", "ls /proc | grep -c '^[0-9]'"});
  ASSERT_EQ(procs.code, 0) << procs.err;
  EXPECT_GT(std::stoi(procs.out), 0) << "sees no process at all, not even its own";
  EXPECT_LT(std::stoi(procs.out), 10) << "sees the host's processes";
  ExpectToolRefused(inst_->Exec("work", {"nsenter", "--net=/proc/1/ns/net", "true"}), 1, "nsenter");
}

TEST_F(Isolation, CannotChangeItsOwnRules) {
  auto r = inst_->Exec("work", {"nft", "flush", "ruleset"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
  auto list = inst_->InNetns("work", {"nft", "list", "table", "inet", "qnet"});
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("drop-output"), std::string::npos) << list.out;
  auto caps =
      inst_->Exec("work", {"grep", "-E", "^(CapEff|CapBnd|NoNewPrivs)", "/proc/self/status"});
  ASSERT_EQ(caps.code, 0) << caps.err;
  EXPECT_NE(caps.out.find("CapEff:\t0000000000000000"), std::string::npos) << caps.out;
  EXPECT_NE(caps.out.find("CapBnd:\t0000000000000000"), std::string::npos) << caps.out;
  EXPECT_NE(caps.out.find("NoNewPrivs:\t1"), std::string::npos) << caps.out;
}

TEST_F(Isolation, CannotReachQnetdSocket) {
  EXPECT_EQ(inst_->Exec("work", {"ls", "/run"}).code, 0);  // the positive control
  ExpectToolRefused(inst_->Exec("work", {"ls", "/run/qnet"}), 2, "ls");
  ExpectToolRefused(inst_->Exec("work", {"ls", "/var/lib/qnet"}), 2, "ls");
}

TEST_F(Isolation, CannotReachAnotherAppQubeBehindTheSameNetvm) {
  const std::string work = Ip(*inst_, "work"), personal = Ip(*inst_, "personal");
  ASSERT_FALSE(work.empty());
  ASSERT_FALSE(personal.empty());
  const std::string filter = "dst host " + personal + " and (icmp or tcp dst port 80)";
  // Positive control: the same capture sees the same probes when they come
  // from the netvm itself (sys-firewall may reach its clients).
  {
    Capture control(inst_->netns("personal"), "eth0", filter);
    inst_->InNetns("sys-firewall", {"ping", "-c", "1", "-W", "2", personal});
    inst_->InNetns("sys-firewall", {"curl", "-s", "--max-time", "2", "http://" + personal + "/"});
    EXPECT_GE(ExpectCaptured(control.Finish()), 2);
  }
  const long before =
      RuleCounter(*inst_, "sys-firewall", "netvm-forward", "iifname \"vif*\" oifname \"vif*\"");
  ASSERT_GE(before, 0) << "no vif-to-vif drop rule in sys-firewall";
  // ping uses an ICMP echo socket (the qube's init allows them for every
  // id; raw sockets need a capability no qube process has). TCP as the user.
  Capture cap(inst_->netns("personal"), "eth0", filter);
  auto ping = inst_->Exec("work", {"ping", "-c", "2", "-W", "1", personal}, true);
  EXPECT_EQ(ping.code, 1) << ping.out << ping.err;  // no reply (2: ping itself failed)
  auto tcp = inst_->Exec("work", {"curl", "-s", "--max-time", "2", "http://" + personal + ":80/"});
  EXPECT_EQ(tcp.code, 28) << "expected a timeout (dropped), got curl exit " << tcp.code;
  EXPECT_EQ(ExpectCaptured(cap.Finish()), 0);
  // sys-firewall's vif-to-vif drop is what stopped them: 2 pings, >= 1 SYN.
  EXPECT_GE(
      RuleCounter(*inst_, "sys-firewall", "netvm-forward", "iifname \"vif*\" oifname \"vif*\""),
      before + 3);
  // Positive control: the same ping reaches the lab.
  auto lab = inst_->Exec("work", {"ping", "-c", "1", "-W", "2", "203.0.113.10"}, true);
  EXPECT_EQ(lab.code, 0) << lab.out << lab.err;
}

TEST_F(Isolation, ReachesItsNetvmOnlyForDnsAndIcmp) {
  const std::string netvm = Ip(*inst_, "sys-firewall");
  ASSERT_FALSE(netvm.empty());
  auto icmp = inst_->Exec("work", {"ping", "-c", "1", "-W", "2", netvm}, true);
  EXPECT_EQ(icmp.code, 0) << icmp.out;
  // DNS (TCP 53) is let in: nothing listens there, so the netvm's kernel
  // answers with a reset (curl exit 7), not silence.
  auto dns = inst_->Exec("work", {"curl", "-s", "--max-time", "2", "telnet://" + netvm + ":53"});
  EXPECT_EQ(dns.code, 7) << "expected a reset from the netvm's kernel, got curl exit " << dns.code;
  // Any other port: nothing listens either, but a drop means no answer at
  // all (timeout), and the netvm's input drop counter rises.
  const uint64_t before = LsRow(*inst_, "sys-firewall")["drops"].value("input", uint64_t{0});
  auto tcp = inst_->Exec("work", {"curl", "-s", "--max-time", "2", "http://" + netvm + ":8080/"});
  EXPECT_EQ(tcp.code, 28) << "expected a timeout (dropped), got curl exit " << tcp.code;
  EXPECT_GT(LsRow(*inst_, "sys-firewall")["drops"].value("input", uint64_t{0}), before);
}

// The IPv4 twin of Firewall6.SpoofedIpv6SourceIsDropped: the spoofed SYN
// could not get an answer back even if it leaked, so curl failing proves
// nothing; the lab's capture and sys-firewall's anti-spoofing counter do.
TEST_F(Isolation, SpoofedSourceIsDropped) {
  const std::string spoof = "10.137.0.99";
  const std::string rule = "ip saddr != @netvm-clients4";
  const long before = RuleCounter(*inst_, "sys-firewall", "netvm-forward", rule);
  ASSERT_GE(before, 0) << "no IPv4 anti-spoofing rule in sys-firewall";
  // Positive control: the same probe from work's own address reaches the
  // lab, through the same capture (sys-net masquerades: the lab sees its uplink).
  {
    Capture control(inst_->netns("lab-web"), "eth0", "tcp dst port 80");
    auto ok = inst_->Exec("work", {"curl", "-s", "--max-time", "5", "http://203.0.113.10/"});
    EXPECT_EQ(ok.out, "198.51.100.2\n");
    EXPECT_GT(ExpectCaptured(control.Finish()), 0);
  }
  // Root in work cannot add an address (it holds no capability over its
  // network namespace): the test adds it from the host, and work sends from it.
  auto add = inst_->InNetns("work", {"ip", "addr", "add", spoof + "/32", "dev", "eth0"});
  ASSERT_EQ(add.code, 0) << add.err;
  Capture cap(inst_->netns("lab-web"), "eth0", "tcp dst port 80");
  auto c = inst_->Exec(
      "work", {"curl", "-s", "--max-time", "3", "--interface", spoof, "http://203.0.113.10/"});
  inst_->InNetns("work", {"ip", "addr", "del", spoof + "/32", "dev", "eth0"});
  EXPECT_EQ(c.code, 28) << "curl exit " << c.code << ": " << c.out << c.err;
  EXPECT_EQ(ExpectCaptured(cap.Finish()), 0);
  // sys-firewall's anti-spoofing rule is what dropped it (contract 8).
  EXPECT_GT(RuleCounter(*inst_, "sys-firewall", "netvm-forward", rule), before);
  auto ok = inst_->Exec("work", {"curl", "-s", "--max-time", "5", "http://203.0.113.10/"});
  EXPECT_EQ(ok.out, "198.51.100.2\n");
}

TEST_F(Isolation, MountsDoNotReachTheHost) {
  auto r = inst_->Exec("work", {"sh", "-c", "echo x > /tmp/qnet-isolation-probe"});
  EXPECT_EQ(r.code, 0) << r.err;
  // Positive control: the file is there, in the qube's own /tmp.
  EXPECT_EQ(inst_->Exec("work", {"cat", "/tmp/qnet-isolation-probe"}).out, "x\n");
  EXPECT_NE(::access("/tmp/qnet-isolation-probe", F_OK), 0) << "the qube's /tmp is the host's";
}

}  // namespace
}  // namespace qnet::testing
