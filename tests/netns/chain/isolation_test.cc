// Qube isolation (DESIGN.md, contract 10) and netvm basics (contract 8),
// as a process run by `qnet exec` sees them.
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"

namespace qnet::testing {
namespace {

struct IsolationTraits {
  static constexpr const char* kPrefix = "qt-iso";
  static constexpr const char* kFile = "tests/netns/chain/data/two-apps.toml";
};

class Isolation : public SharedChainTest<IsolationTraits> {};

TEST_F(Isolation, CannotOpenAnotherQubesNetworkNamespace) {
  // Neither the pins nor other qubes' /proc entries are visible, and nsenter
  // without privileges fails anyway.
  auto ls = inst_->Exec("work", {"ls", "/run/netns"});
  EXPECT_NE(ls.code, 0) << ls.out;
  auto pin = inst_->Exec("work", {"cat", "/run/netns/" + inst_->netns("personal")});
  EXPECT_NE(pin.code, 0);
  auto procs = inst_->Exec("work", {"sh", "-c", "ls /proc | grep -c '^[0-9]'"});
  EXPECT_LT(std::stoi(procs.out.empty() ? "0" : procs.out), 10) << "sees the host's processes";
  auto host_init = inst_->Exec("work", {"nsenter", "--net=/proc/1/ns/net", "true"});
  EXPECT_NE(host_init.code, 0);
}

TEST_F(Isolation, CannotChangeItsOwnRules) {
  auto r = inst_->Exec("work", {"nft", "flush", "ruleset"});
  EXPECT_NE(r.code, 0);
  auto list = inst_->InNetns("work", {"nft", "list", "table", "inet", "qnet"});
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("drop-output"), std::string::npos) << list.out;
  auto caps = inst_->Exec("work", {"grep", "-E", "^(CapEff|CapBnd|NoNewPrivs)", "/proc/self/status"});
  EXPECT_NE(caps.out.find("CapEff:\t0000000000000000"), std::string::npos) << caps.out;
  EXPECT_NE(caps.out.find("CapBnd:\t0000000000000000"), std::string::npos) << caps.out;
  EXPECT_NE(caps.out.find("NoNewPrivs:\t1"), std::string::npos) << caps.out;
}

TEST_F(Isolation, CannotReachQnetdSocket) {
  auto r = inst_->Exec("work", {"ls", "/run/qnet"});
  EXPECT_NE(r.code, 0) << r.out;
  auto state = inst_->Exec("work", {"ls", "/var/lib/qnet"});
  EXPECT_EQ(state.out, "") << "state directory visible";
}

TEST_F(Isolation, CannotReachAnotherAppQubeBehindTheSameNetvm) {
  // ping uses an ICMP echo socket (the qube's init allows them for every
  // id; raw sockets need a capability no qube process has). TCP as the user.
  auto ping = inst_->Exec("work", {"ping", "-c", "2", "-W", "1", "10.137.0.4"}, true);
  EXPECT_NE(ping.code, 0) << ping.out;
  auto tcp = inst_->Exec("work", {"curl", "-s", "--max-time", "2", "http://10.137.0.4:80/"});
  EXPECT_EQ(tcp.code, 28) << "expected a timeout (dropped), got curl exit " << tcp.code;
  // Positive control: the same ping reaches the lab.
  auto lab = inst_->Exec("work", {"ping", "-c", "1", "-W", "2", "203.0.113.10"}, true);
  EXPECT_EQ(lab.code, 0) << lab.out << lab.err;
}

TEST_F(Isolation, ReachesItsNetvmOnlyForDnsAndIcmp) {
  auto icmp = inst_->Exec("work", {"ping", "-c", "1", "-W", "2", "10.137.0.2"}, true);
  EXPECT_EQ(icmp.code, 0) << icmp.out;
  // Nothing listens there, but a drop means no answer at all (timeout), not a refusal.
  auto tcp = inst_->Exec("work", {"curl", "-s", "--max-time", "2", "http://10.137.0.2:8080/"});
  EXPECT_EQ(tcp.code, 28) << "expected a timeout (dropped), got curl exit " << tcp.code;
}

TEST_F(Isolation, SpoofedSourceIsDropped) {
  // Root in work cannot add an address (it holds no capability over its
  // network namespace): the test adds it from the host, and work sends from it.
  auto add = inst_->InNetns("work", {"ip", "addr", "add", "10.137.0.99/32", "dev", "eth0"});
  ASSERT_EQ(add.code, 0) << add.err;
  auto spoof = inst_->Exec("work", {"curl", "-s", "--max-time", "3", "--interface", "10.137.0.99",
                                    "http://203.0.113.10/"});
  EXPECT_NE(spoof.code, 0) << spoof.out;
  inst_->InNetns("work", {"ip", "addr", "del", "10.137.0.99/32", "dev", "eth0"});
  auto ok = inst_->Exec("work", {"curl", "-s", "--max-time", "5", "http://203.0.113.10/"});
  EXPECT_EQ(ok.out, "198.51.100.2\n");
}

TEST_F(Isolation, MountsDoNotReachTheHost) {
  auto r = inst_->Exec("work", {"sh", "-c", "echo x > /tmp/qnet-isolation-probe"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(::access("/tmp/qnet-isolation-probe", F_OK), 0) << "the qube's /tmp is the host's";
}

}  // namespace
}  // namespace qnet::testing
