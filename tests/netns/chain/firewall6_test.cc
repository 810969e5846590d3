// End-to-end: the Qubes firewall over IPv6 (chain `ipv6 = "routed"`, docs/security-contract.md
// contract 7), enforced by sys-firewall for `work`, with real traffic to the
// lab's IPv6 hosts (web 2001:db8:2::10: HTTP 80, TCP/UDP echo 7; dns
// 2001:db8:2::53). Each test starts from `qnet firewall work reset`.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "harness.h"

namespace qnet::testing {
namespace {

using namespace std::chrono_literals;

struct Firewall6Traits {
  static constexpr const char* kPrefix = "qt-fw6";
  static constexpr const char* kFile = "tests/netns/chain/data/firewall6.toml";
};

constexpr const char* kWeb4 = "203.0.113.10";
constexpr const char* kWeb6 = "2001:db8:2::10";
constexpr const char* kDns6 = "2001:db8:2::53";
constexpr const char* kWebUrl4 = "http://203.0.113.10/";
constexpr const char* kWebUrl6 = "http://[2001:db8:2::10]/";
// What the web server sees: sys-net masquerades toward the lab, in both families.
constexpr const char* kSeen4 = "198.51.100.2\n";
constexpr const char* kSeen6 = "2001:db8:1::2\n";
// The lab web server answers UDP echo on port 7.
constexpr int kEcho = 7;

// A TCP client that keeps one IPv6 connection to the echo port and sends a
// line every 0.3 s; it prints "echo N" per answer and, when the connection
// dies, the error (ConnectionResetError for a reset).
constexpr const char* kEchoClient6 = R"(
import socket, sys, time
s = socket.create_connection(("2001:db8:2::10", 7), timeout=3)
print("connected", flush=True)
for i in range(int(sys.argv[1])):
    try:
        s.sendall(b"x\n")
        d = s.recv(16)
        if not d:
            print("closed", flush=True); break
        print("echo", i, flush=True)
    except Exception as e:
        print(type(e).__name__, flush=True); break
    time.sleep(0.3)
)";

class Firewall6 : public SharedChainTest<Firewall6Traits> {
 protected:
  void SetUp() override {
    SharedChainTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    // The netvms' kernels rate-limit the ICMP errors their rejects send (1/s
    // per peer): the sender would see a timeout where it should see the
    // error. Off in the test chain's own netvm namespaces only.
    for (const char* netvm : {"sys-net", "sys-firewall"})
      inst_->InNetns(netvm,
                     {"sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0"});
    auto r = Fw({"reset"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
  }
  static CmdResult Fw(std::vector<std::string> args) {
    args.insert(args.begin(), {"firewall", "work"});
    return inst_->Qnet(args);
  }
  // Replaces the list (see firewall_test.cc): the default `accept` becomes
  // rule 0 on the first edit and is deleted last.
  static CmdResult Set(std::vector<std::string> rules) {
    auto r = Fw({"reset"});
    if (r.code != 0) return r;
    rules.insert(rules.begin(), {"add", "--rules"});
    r = Fw(rules);
    if (r.code != 0) return r;
    return Fw({"del", "0"});
  }
  // -g: no URL globbing, so that [addr] is an IPv6 literal.
  static CmdResult Curl(const std::string& url, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"curl", "-sS", "-g", "--max-time", "5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    return inst_->Exec("work", argv);
  }
  // UDP echo: prints the reply, or the name of the error the sender sees
  // (TimeoutError when nothing came back at all).
  static CmdResult Udp(const std::string& dst, int port) {
    return inst_->Exec("work", {"python3", "-c",
                                "import socket,sys\n"
                                "fam=socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\n"
                                "s=socket.socket(fam,socket.SOCK_DGRAM)\n"
                                "s.settimeout(2)\n"
                                "s.connect((sys.argv[1],int(sys.argv[2])))\n"
                                "s.send(b'ping')\n"
                                "try: print(s.recv(64).decode())\n"
                                "except Exception as e: print(type(e).__name__)\n",
                                dst, std::to_string(port)});
  }
  static CmdResult Ping(const std::string& dst) {
    // ping needs a raw socket: as the qube's root, still inside the qube.
    return inst_->Exec("work", {"ping", "-c1", "-W2", dst}, /*root=*/true);
  }
  // The global IPv6 address of `qube` on `ifname`, in the test's own view.
  static std::string Addr(const std::string& qube, const std::string& ifname) {
    auto r =
        inst_->InNetns(qube, {"ip", "-6", "-o", "addr", "show", "dev", ifname, "scope", "global"});
    // "2: eth0    inet6 fd09:24ef:4179::a89:3/128 scope global ..."
    auto at = r.out.find("inet6 ");
    if (at == std::string::npos) return "";
    at += 6;
    return r.out.substr(at, r.out.find('/', at) - at);
  }
};

// The sender's view of a rejected UDP datagram: ICMPv6 destination
// unreachable, administratively prohibited (EACCES) at once; neither the echo
// nor a timeout (a silent drop).
void ExpectRejectedUdp(const CmdResult& r) { EXPECT_EQ(r.out, "PermissionError\n") << r.err; }

// The packet counter of the first rule in `chain` of sys-firewall's qnet
// table whose text contains `match` (-1 when none).
long Counter(const TestInstance& inst, const std::string& chain, const std::string& match) {
  auto r = inst.InNetns("sys-firewall", {"nft", "list", "chain", "inet", "qnet", chain});
  size_t line = r.out.find(match);
  if (line == std::string::npos) return -1;
  size_t at = r.out.find("counter packets ", line);
  if (at == std::string::npos || at > r.out.find('\n', line)) return -1;
  return std::stol(r.out.substr(at + 16));
}

// Runs first, right after `qnet up`: every address on the chain's links is
// qnet's own, link-locals included, so none is still in DAD. (A link-local in
// DAD held up IPv6 forwarded toward a client for about 2 s after a link came
// up: a router solicits from it and sends nothing while it is tentative.)
TEST_F(Firewall6, AfterUp_NoAddressIsStillInDad) {
  for (const char* ns : {"sys-net", "sys-firewall", "work", "lab-router", "lab-web", "lab-dns"}) {
    auto r = inst_->InNetns(ns, {"ip", "-6", "-o", "addr", "show", "tentative"});
    EXPECT_EQ(r.code, 0) << ns << ": " << r.err;
    EXPECT_EQ(r.out, "") << ns;
  }
}

TEST_F(Firewall6, RoutedBasics_WebAndUdpEchoReachTheLabOverIpv6) {
  // work has its own Qubes IPv6 address and a default route over sys-firewall.
  const std::string work6 = Addr("work", "eth0");
  EXPECT_EQ(work6.rfind("fd09:24ef:4179::a89:", 0), 0u) << work6;
  auto c = Curl(kWebUrl6);
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out, kSeen6);
  EXPECT_EQ(Udp(kWeb6, kEcho).out, "ping\n");
  auto p = Ping(kWeb6);
  EXPECT_EQ(p.code, 0) << p.out << p.err;
  // IPv4 still works beside it.
  EXPECT_EQ(Curl(kWebUrl4).out, kSeen4);
}

TEST_F(Firewall6, LabDns_AnswersAaaaForWebLab) {
  auto r = inst_->Exec("work", {"getent", "ahostsv6", "web.lab"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(kWeb6), std::string::npos) << r.out;
  // By name, curl prefers the IPv6 address.
  auto c = Curl("http://web.lab/", {"-6"});
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out, kSeen6);
}

TEST_F(Firewall6, Drop_TcpGetsAResetAndUdpAnIcmpv6Error) {
  ASSERT_EQ(Set({"drop"}).code, 0);
  auto c = Curl(kWebUrl6);
  // curl exit 7: the SYN got a reset (a silent drop would be exit 28).
  EXPECT_EQ(c.code, 7) << c.err;
  ExpectRejectedUdp(Udp(kWeb6, kEcho));
  EXPECT_NE(Ping(kWeb6).code, 0);
}

TEST_F(Firewall6, HostRule_OnlyThatIpv6HostIsReachable) {
  // Positive control under the default accept: the dns host answers ping,
  // and a non-DNS datagram to it goes unanswered (a timeout, not an error).
  auto control = Ping(kDns6);
  EXPECT_EQ(control.code, 0) << control.out << control.err;
  EXPECT_EQ(Udp(kDns6, 53).out, "TimeoutError\n");
  auto a = Set({std::string("accept dst6=") + kWeb6 + "/128", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(Curl(kWebUrl6).out, kSeen6);
  EXPECT_EQ(Udp(kWeb6, kEcho).out, "ping\n");
  // The lab DNS server's IPv6 address is another host: rejected.
  ExpectRejectedUdp(Udp(kDns6, 53));
  EXPECT_NE(Ping(kDns6).code, 0);
  auto p = Ping(kWeb6);
  EXPECT_EQ(p.code, 0) << p.out << p.err;
  // The kernel's per-rule counter: the IPv6 traffic matched rule 0.
  auto j = nlohmann::json::parse(Fw({"list", "--json"}).out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << j.dump();
  ASSERT_EQ(j["rules"].size(), 2u) << j.dump();
  ASSERT_TRUE(j["rules"][0]["hits"].is_number()) << j.dump();
  EXPECT_GE(j["rules"][0]["hits"].get<uint64_t>(), 3u) << j.dump();
}

TEST_F(Firewall6, NetworkAndPortRanges_TcpAndUdpMatchSeparately) {
  auto a = Set({"accept dst6=2001:db8:2::/64 proto=tcp dstports=80-80", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(Curl(kWebUrl6).out, kSeen6);
  ExpectRejectedUdp(Udp(kWeb6, kEcho));  // udp not allowed
  // Port 7 is outside 80-80: the TCP echo port gets the reset.
  EXPECT_EQ(Curl(std::string("telnet://[") + kWeb6 + "]:7").code, 7);
  ASSERT_EQ(Fw({"add", "--before", "1", "accept dst6=2001:db8:2::/64 proto=udp dstports=5-9"}).code,
            0);
  EXPECT_EQ(Udp(kWeb6, kEcho).out, "ping\n");
  // A network that does not contain the host opens nothing.
  ASSERT_EQ(Set({"accept dst6=2001:db8:3::/64", "drop"}).code, 0);
  EXPECT_EQ(Curl(kWebUrl6).code, 7);
}

TEST_F(Firewall6, Icmpv6Type_EchoRequestAllowedOnlyWhenListed) {
  ASSERT_EQ(Set({"accept proto=tcp", "drop"}).code, 0);
  EXPECT_NE(Ping(kWeb6).code, 0);
  // icmptype with an IPv6 destination is an ICMPv6 type: 128 echo request.
  ASSERT_EQ(
      Fw({"add", "--before", "0", std::string("accept dst6=") + kWeb6 + " proto=icmp icmptype=128"})
          .code,
      0);
  auto p = Ping(kWeb6);
  EXPECT_EQ(p.code, 0) << p.out << p.err;
  // It is IPv6-only: IPv4 ping stays dropped.
  EXPECT_NE(Ping(kWeb4).code, 0);
  // proto=icmp without a type or a destination covers ICMPv6 as well.
  ASSERT_EQ(Set({"accept proto=icmp", "drop"}).code, 0);
  auto p4 = Ping(kWeb4);
  EXPECT_EQ(p4.code, 0) << p4.out << p4.err;
  auto p6 = Ping(kWeb6);
  EXPECT_EQ(p6.code, 0) << p6.out << p6.err;
  EXPECT_EQ(Curl(kWebUrl6).code, 7);
}

TEST_F(Firewall6, RuleWithoutDestination_AppliesToBothFamilies) {
  ASSERT_EQ(Set({"accept proto=tcp dstports=80", "drop"}).code, 0);
  EXPECT_EQ(Curl(kWebUrl4).out, kSeen4);
  EXPECT_EQ(Curl(kWebUrl6).out, kSeen6);
  EXPECT_NE(Udp(kWeb4, kEcho).out, "ping\n");
  ExpectRejectedUdp(Udp(kWeb6, kEcho));
  // And a family-free drop closes both.
  ASSERT_EQ(Set({"drop proto=tcp dstports=80", "accept"}).code, 0);
  EXPECT_EQ(Curl(kWebUrl4).code, 7);
  EXPECT_EQ(Curl(kWebUrl6).code, 7);
  EXPECT_EQ(Udp(kWeb6, kEcho).out, "ping\n");
}

TEST_F(Firewall6, FamilyRules_Ipv4DoesNotOpenIpv6AndViceVersa) {
  ASSERT_EQ(Set({std::string("accept dst4=") + kWeb4, "drop"}).code, 0);
  EXPECT_EQ(Curl(kWebUrl4).out, kSeen4);
  EXPECT_EQ(Curl(kWebUrl6).code, 7);
  ASSERT_EQ(Set({std::string("accept dst6=") + kWeb6, "drop"}).code, 0);
  EXPECT_EQ(Curl(kWebUrl6).out, kSeen6);
  EXPECT_EQ(Curl(kWebUrl4).code, 7);
  // dsthost= with an IPv6 literal is a dst6 rule.
  ASSERT_EQ(Set({std::string("accept dsthost=") + kWeb6, "drop"}).code, 0);
  EXPECT_EQ(Curl(kWebUrl6).out, kSeen6);
  EXPECT_EQ(Curl(kWebUrl4).code, 7);
  // A drop of one family leaves the other open.
  ASSERT_EQ(Set({std::string("drop dst6=") + kWeb6, "accept"}).code, 0);
  EXPECT_EQ(Curl(kWebUrl4).out, kSeen4);
  EXPECT_EQ(Curl(kWebUrl6).code, 7);
}

TEST_F(Firewall6, DnsSpecialTarget_AaaaResolvesWhileEverythingElseDrops) {
  ASSERT_EQ(Set({"accept specialtarget=dns", "drop"}).code, 0);
  // Qubes' virtual DNS is IPv4; it answers the AAAA question.
  auto r = inst_->Exec("work", {"getent", "ahostsv6", "web.lab"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(kWeb6), std::string::npos) << r.out;
  EXPECT_EQ(Curl(kWebUrl6).code, 7);
}

TEST_F(Firewall6, Hostname_AaaaOpensTheIpv6AddressToo) {
  auto a = Set({"accept dsthost=web.lab proto=tcp", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(Curl(kWebUrl6).out, kSeen6);
  EXPECT_EQ(Curl(kWebUrl4).out, kSeen4);
  ExpectRejectedUdp(Udp(kWeb6, kEcho));
  // dns.lab's addresses are not web.lab's.
  auto d = Curl(std::string("telnet://[") + kDns6 + "]:53", {"--connect-timeout", "3"});
  EXPECT_EQ(d.code, 7) << d.err;
  // A drop by name closes the IPv6 address as well.
  ASSERT_EQ(Set({"drop dsthost=web.lab", "accept"}).code, 0);
  EXPECT_EQ(Curl(kWebUrl6).code, 7);
  EXPECT_EQ(Curl(kWebUrl4).code, 7);
}

// Mirrors the IPv4 test of the same name for AAAA, on a name of its own
// (so that no other test sees a moved web.lab): the AAAA record moves away
// from the web server while the rule is live, and back; the IPv6 address
// follows at each refresh (the TTL of 1 s, bounded below by the agent's
// refresh floor, lowered for tests) while the A
// record, unchanged, keeps IPv4 open throughout.
TEST_F(Firewall6, Hostname_AaaaRecordChangedWhileLiveIsFollowedAtTheRefresh) {
  const std::string records = "/run/qnet/" + inst_->name() + "/lab/records";
  std::string original;
  {
    std::ifstream in(records);
    original.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_NE(original.find("web.lab AAAA"), std::string::npos) << original;
  struct Restore {
    std::string path, text;
    ~Restore() { std::ofstream(path, std::ios::trunc) << text; }
  } restore{records, original};
  auto write = [&](const char* aaaa) {
    std::ofstream(records, std::ios::trunc)
        << original << "mv6.lab A 203.0.113.10 1\nmv6.lab AAAA " << aaaa << " 1\n";
  };
  write("2001:db8:2::10");
  auto a = Set({"accept dsthost=mv6.lab proto=tcp", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(Curl(kWebUrl6).out, kSeen6);
  EXPECT_EQ(Curl(kWebUrl4).out, kSeen4);
  // Moved away: at the next refresh the rule stops matching the web server.
  write("2001:db8:2::77");
  int waited = 0;
  while (waited < 30 && Curl(kWebUrl6).code == 0) {
    std::this_thread::sleep_for(1s);
    waited += 1;
  }
  EXPECT_LT(waited, 30) << "the changed AAAA record was never followed";
  auto c = Curl(kWebUrl6);
  EXPECT_EQ(c.code, 7) << c.err;          // the final drop's reset
  EXPECT_EQ(Curl(kWebUrl4).out, kSeen4);  // the A record still holds
  // Back to the web server: allowed again after the next refresh.
  write("2001:db8:2::10");
  waited = 0;
  while (waited < 30 && Curl(kWebUrl6).code != 0) {
    std::this_thread::sleep_for(1s);
    waited += 1;
  }
  EXPECT_LT(waited, 30) << "the restored AAAA record was never followed";
  EXPECT_EQ(Curl(kWebUrl6).out, kSeen6);
  EXPECT_EQ(Curl(kWebUrl4).out, kSeen4);
}

// Makes sys-firewall's own DNS queries of one type for one 7-character name
// fail (dropped on their way out by a table of the test's own, so the send
// fails at once), and adds the name to the lab DNS; both undone on every exit.
class DnsFault {
 public:
  // qname: the name's wire form as hex (9 bytes); qtype 1 (A) or 28 (AAAA).
  DnsFault(const TestInstance& inst, const std::string& name, const std::string& qname_hex,
           int qtype)
      : inst_(inst), records_("/run/qnet/" + inst.name() + "/lab/records") {
    std::ifstream in(records_);
    original_.assign(std::istreambuf_iterator<char>(in), {});
    std::ofstream(records_, std::ios::trunc) << original_ << name << " A 203.0.113.53 60\n"
                                             << name << " AAAA 2001:db8:2::53 60\n";
    ok_ = inst_.InNetns("sys-firewall", {"nft", "add", "table", "inet", kTable}).code == 0 &&
          inst_.InNetns("sys-firewall", {"nft", "add", "chain", "inet", kTable, "out",
                                         "{ type filter hook output priority -10; }"})
                  .code == 0 &&
          inst_.InNetns("sys-firewall", {"nft", "add", "rule", "inet", kTable, "out", "udp",
                                         "dport", "53", "@th,160,72", "0x" + qname_hex,
                                         "@th,232,16", std::to_string(qtype), "counter", "drop"})
                  .code == 0;
  }
  ~DnsFault() {
    inst_.InNetns("sys-firewall", {"nft", "delete", "table", "inet", kTable});
    std::ofstream(records_, std::ios::trunc) << original_;
  }
  DnsFault(const DnsFault&) = delete;
  DnsFault& operator=(const DnsFault&) = delete;
  bool ok() const { return ok_; }
  // How many queries the fault swallowed.
  long dropped() const {
    auto r = inst_.InNetns("sys-firewall", {"nft", "list", "table", "inet", kTable});
    size_t at = r.out.find("counter packets ");
    return at == std::string::npos ? -1 : std::stol(r.out.substr(at + 16));
  }

 private:
  static constexpr const char* kTable = "qt-dnsfault";
  const TestInstance& inst_;
  std::string records_;
  std::string original_;
  bool ok_ = false;
};

// Contract 9 with both families: a name whose A (or AAAA) query fails while
// the other type answers is unresolved as a whole. Were it resolved with one
// family's addresses only, `drop dsthost=NAME` would hold for that family
// and leave the other open.
TEST_F(Firewall6, Hostname_ALookupFailing_DropRuleStillClosesBothFamilies) {
  DnsFault fault(*inst_, "fa4.lab", "03666134036c616200", 1);
  ASSERT_TRUE(fault.ok());
  auto a = Set({"drop dsthost=fa4.lab", "accept"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_GT(fault.dropped(), 0) << "the A query was never sent";
  EXPECT_NE(Ping("203.0.113.53").code, 0) << "IPv4 opened by a failed A lookup";
  EXPECT_NE(Ping(kDns6).code, 0);
  // The rule and all after it became drop: the list's accept is gone too.
  EXPECT_EQ(Curl(kWebUrl6).code, 7);
  EXPECT_EQ(Curl(kWebUrl4).code, 7);
}

TEST_F(Firewall6, Hostname_AaaaLookupFailing_DropRuleStillClosesBothFamilies) {
  DnsFault fault(*inst_, "fa6.lab", "03666136036c616200", 28);
  ASSERT_TRUE(fault.ok());
  auto a = Set({"drop dsthost=fa6.lab", "accept"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_GT(fault.dropped(), 0) << "the AAAA query was never sent";
  EXPECT_NE(Ping(kDns6).code, 0) << "IPv6 opened by a failed AAAA lookup";
  EXPECT_NE(Ping("203.0.113.53").code, 0);
  EXPECT_EQ(Curl(kWebUrl6).code, 7);
  EXPECT_EQ(Curl(kWebUrl4).code, 7);
}

TEST_F(Firewall6, SpoofedIpv6SourceIsDropped) {
  // The host adds a second IPv6 address to work (root in work holds no
  // capability over its network namespace); work sends from it.
  const std::string spoof = "fd09:24ef:4179::a89:99";
  const std::string rule = "ip6 saddr != @netvm-clients6";
  const long before = Counter(*inst_, "netvm-forward", rule);
  ASSERT_GE(before, 0) << "no anti-spoofing rule for IPv6 in sys-firewall";
  auto add =
      inst_->InNetns("work", {"ip", "-6", "addr", "add", spoof + "/128", "dev", "eth0", "nodad"});
  ASSERT_EQ(add.code, 0) << add.err;
  auto c = Curl(kWebUrl6, {"--interface", spoof});
  auto u = inst_->Exec("work", {"python3", "-c",
                                "import socket,sys\n"
                                "s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n"
                                "s.settimeout(2)\n"
                                "s.bind((sys.argv[1],0))\n"
                                "s.sendto(b'ping',(sys.argv[2],7))\n"
                                "try: print(s.recv(64).decode())\n"
                                "except Exception as e: print(type(e).__name__)\n",
                                spoof, kWeb6});
  inst_->InNetns("work", {"ip", "-6", "addr", "del", spoof + "/128", "dev", "eth0"});
  // Dropped without an answer: neither a reply nor a reject reaches a spoofer.
  EXPECT_EQ(c.code, 28) << "curl exit " << c.code << ": " << c.out << c.err;
  EXPECT_EQ(u.out, "TimeoutError\n") << u.err;
  // sys-firewall's anti-spoofing rule is what dropped them (contract 8).
  EXPECT_GT(Counter(*inst_, "netvm-forward", rule), before);
  // Positive control: work's own address still gets through.
  EXPECT_EQ(Curl(kWebUrl6).out, kSeen6);
}

TEST_F(Firewall6, NeighbourDiscovery_KeepsWorkingUnderADropAllList) {
  ASSERT_EQ(Set({"drop"}).code, 0);
  // sys-firewall forgets work's link-layer address: every packet it sends to
  // work below needs a fresh neighbour solicitation and advertisement.
  auto f = inst_->InNetns("sys-firewall", {"ip", "-6", "neigh", "flush", "all"});
  ASSERT_EQ(f.code, 0) << f.err;
  // The reset comes from sys-firewall: it found work by NDP.
  EXPECT_EQ(Curl(kWebUrl6).code, 7);
  auto n = inst_->InNetns("sys-firewall", {"ip", "-6", "neigh", "show"});
  EXPECT_NE(n.out.find("fd09:24ef:4179::a89:"), std::string::npos) << n.out;
  EXPECT_EQ(n.out.find("FAILED"), std::string::npos) << n.out;
  // And the netvm itself still answers ICMPv6 echo (contract 8).
  auto route = inst_->InNetns("work", {"ip", "-6", "route", "show", "default"});
  auto via = route.out.find("via ");
  ASSERT_NE(via, std::string::npos) << route.out;
  const std::string gateway = route.out.substr(via + 4, route.out.find(' ', via + 4) - via - 4);
  auto p = Ping(gateway);
  EXPECT_EQ(p.code, 0) << gateway << ": " << p.out << p.err;
}

TEST_F(Firewall6, RuleChange_CutsADeniedEstablishedIpv6Connection) {
  ASSERT_EQ(Set({std::string("accept dst6=") + kWeb6 + " proto=tcp dstports=7", "accept"}).code, 0);
  auto cut = std::async(std::launch::async, [] {
    return inst_->Exec("work", {"python3", "-c", kEchoClient6, "20"});
  });
  std::this_thread::sleep_for(1500ms);
  // Now port 7 is denied; HTTP stays allowed.
  ASSERT_EQ(
      Fw({"add", "--before", "0", std::string("drop dst6=") + kWeb6 + " proto=tcp dstports=7"})
          .code,
      0);
  auto r = cut.get();
  EXPECT_NE(r.out.find("connected"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("echo 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ConnectionResetError"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.out.find("echo 19"), std::string::npos) << r.out;
  EXPECT_EQ(Curl(kWebUrl6).out, kSeen6);
}

TEST_F(Firewall6, Expire_Ipv6RuleStopsMatchingAtItsExpiry) {
  auto a = Set({std::string("accept dst6=") + kWeb6 + " proto=tcp expire=+4", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(Curl(kWebUrl6).out, kSeen6);
  std::this_thread::sleep_for(5500ms);  // expiry + 1.5 s
  auto c = Curl(kWebUrl6);
  EXPECT_EQ(c.code, 7) << c.out << c.err;  // the final drop's reset
}

}  // namespace
}  // namespace qnet::testing
