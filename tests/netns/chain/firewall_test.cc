// End-to-end: the Qubes firewall, enforced by sys-firewall for `work` and
// `personal` and by sys-net for `direct`, with real traffic to the lab (web
// 203.0.113.10: HTTP 80, TCP/UDP echo 7; dns 203.0.113.53). Each test starts
// from `qnet firewall work reset`; a test that edits another qube's list
// resets it on every exit.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "harness.h"

namespace qnet::testing {
namespace {

using namespace std::chrono_literals;

struct FirewallTraits {
  static constexpr const char* kPrefix = "qt-fw";
  static constexpr const char* kFile = "tests/netns/chain/data/firewall.toml";
};

// A TCP client that keeps one connection to the echo port and sends a line
// every 0.3 s; it prints "echo N" per answer and, when the connection dies,
// the error (ConnectionResetError for a reset).
constexpr const char* kEchoClient = R"(
import socket, sys, time
s = socket.create_connection(("203.0.113.10", 7), timeout=3)
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

// One client's objects in `netvm`'s qnet table as the kernel lists them
// (`nft -j`): its chains, their rules (handles, expressions, counters), its
// sets and named counters, and its entries in the shared dispatch maps.
// Null when the table could not be read.
nlohmann::json ClientObjects(const TestInstance& inst, const std::string& netvm, int id) {
  const std::string chain = fmt::format("fw-{}", id);
  auto owned = [&chain](const nlohmann::json& name) {
    if (!name.is_string()) return false;
    const std::string n = name.get<std::string>();
    return n == chain || n.rfind(chain + "-", 0) == 0;
  };
  auto r = inst.InNetns(netvm, {"nft", "-j", "list", "table", "inet", "qnet"});
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_object() || !j["nftables"].is_array()) return nullptr;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : j["nftables"]) {
    if (o.contains("rule") && owned(o["rule"]["chain"])) out.push_back(o);
    for (const char* kind : {"chain", "set", "counter"})
      if (o.contains(kind) && owned(o[kind]["name"])) out.push_back(o);
    if (o.contains("map") && o["map"].contains("elem"))
      for (const auto& e : o["map"]["elem"])
        if (e.is_array() && e.size() == 2 && e[1].contains("jump") && owned(e[1]["jump"]["target"]))
          out.push_back({{"map", o["map"]["name"]}, {"elem", e}});
  }
  return out;
}

size_t CountRules(const nlohmann::json& objects) {
  size_t n = 0;
  for (const auto& o : objects) n += o.contains("rule");
  return n;
}

class Firewall : public SharedChainTest<FirewallTraits> {
 protected:
  void SetUp() override {
    SharedChainTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    // The netvms' kernels rate-limit the ICMP errors their rejects send (1/s
    // per peer): the sender would see a timeout where it should see the
    // error. Off in the test chain's own netvm namespaces only.
    for (const char* netvm : {"sys-net", "sys-firewall"})
      inst_->InNetns(netvm, {"sysctl", "-qw", "net.ipv4.icmp_ratelimit=0"});
    auto r = Fw({"reset"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
  }
  static CmdResult Fw(std::vector<std::string> args) { return FwOf("work", std::move(args)); }
  static CmdResult FwOf(const std::string& qube, std::vector<std::string> args) {
    args.insert(args.begin(), {"firewall", qube});
    return inst_->Qnet(args);
  }
  // Replaces the list: editing the default list first makes its `accept`
  // explicit (rule 0, as qvm-firewall does), which the last `del 0` removes.
  static CmdResult Set(std::vector<std::string> rules) { return SetOf("work", std::move(rules)); }
  static CmdResult SetOf(const std::string& qube, std::vector<std::string> rules) {
    auto r = FwOf(qube, {"reset"});
    if (r.code != 0) return r;
    rules.insert(rules.begin(), {"add", "--rules"});
    r = FwOf(qube, rules);
    if (r.code != 0) return r;
    return FwOf(qube, {"del", "0"});
  }
  static CmdResult Curl(const std::string& url = "http://203.0.113.10/",
                        const std::string& qube = "work") {
    return inst_->Exec(qube, {"curl", "-sS", "--max-time", "5", url});
  }
  // A TCP connect: prints "connected", or the error the sender sees
  // (ConnectionRefusedError for a reset, TimeoutError for a silent drop).
  static CmdResult Tcp(const std::string& dst, int port, const std::string& qube = "work") {
    return inst_->Exec(qube,
                       {"python3", "-c",
                        "import socket,sys\n"
                        "try:\n"
                        "  socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=3)\n"
                        "  print('connected')\n"
                        "except OSError as e: print(type(e).__name__)\n",
                        dst, std::to_string(port)});
  }
  // A DNS query (A web.lab) to `server`:53: prints "answer" (a reply with
  // the query's id), "timeout", or the errno name of the error the sender sees.
  static CmdResult Dns(const std::string& server, const std::string& qube = "work") {
    return inst_->Exec(
        qube, {"python3", "-c",
               "import errno,os,socket,struct,sys\n"
               "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
               "s.settimeout(2)\n"
               "s.connect((sys.argv[1],53))\n"
               "qid=os.getpid()&0xffff\n"
               "s.send(struct.pack('>6H',qid,0x100,1,0,0,0)"
               "+b'\\x03web\\x03lab\\x00'+struct.pack('>2H',1,1))\n"
               "try: d=s.recv(512); print('answer' if d[:2]==struct.pack('>H',qid) else 'other')\n"
               "except socket.timeout: print('timeout')\n"
               "except OSError as e: print(errno.errorcode.get(e.errno, 'OSError'))\n",
               server});
  }
  // UDP echo: prints the reply, "timeout", or the errno name (EHOSTUNREACH).
  static CmdResult Udp(const std::string& dst, int port, const std::string& qube = "work") {
    return inst_->Exec(qube,
                       {"python3", "-c",
                        "import errno,socket,sys\n"
                        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                        "s.settimeout(2)\n"
                        "s.connect((sys.argv[1],int(sys.argv[2])))\n"
                        "s.send(b'ping')\n"
                        "try: print(s.recv(64).decode())\n"
                        "except socket.timeout: print('timeout')\n"
                        "except OSError as e: print(errno.errorcode.get(e.errno, 'OSError'))\n",
                        dst, std::to_string(port)});
  }
  // Packets matching the BPF `filter` that reach the lab host (web|dns)
  // while `send` runs: a capture on its eth0, listening before the first
  // probe. -1 (and a failure) when the capture did not report or lost packets.
  template <typename F>
  static long Arrived(const std::string& host, const std::string& filter, F send) {
    Capture cap(inst_->netns("lab-" + host), "eth0", filter);
    send();
    return ExpectCaptured(cap.Finish());
  }
  static CmdResult Ping(const std::string& dst, const std::string& qube = "work") {
    // ping needs a raw socket: as the qube's root, still inside the qube.
    return inst_->Exec(qube, {"ping", "-c1", "-W2", dst}, /*root=*/true);
  }
  static int Id(const std::string& qube) { return LsRow(*inst_, qube).value("id", 0); }
};

TEST_F(Firewall, DefaultAccept_WebAndUdpEchoReachTheLab) {
  auto c = Curl();
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out, "198.51.100.2\n");
  EXPECT_EQ(Udp("203.0.113.10", 7).out, "ping\n");
  // The capture used below to prove that nothing arrives sees what does.
  EXPECT_GT(Arrived("web", "tcp dst port 80", [] { Curl(); }), 0);
  auto l = Fw({"list"});
  EXPECT_EQ(l.code, 0) << l.err;
  EXPECT_NE(l.out.find("accept"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("HITS"), std::string::npos) << l.out;
  // The kernel's per-rule counter: the curl and the echo matched rule 0.
  auto j = nlohmann::json::parse(Fw({"list", "--json"}).out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << j.dump();
  ASSERT_FALSE(j["rules"].empty());
  EXPECT_TRUE(j["rules"][0]["hits"].is_number()) << j.dump();
  EXPECT_GT(j["rules"][0]["hits"].get<uint64_t>(), 0u) << j.dump();
}

TEST_F(Firewall, Drop_CurlGetsAResetFastNotATimeout) {
  ASSERT_EQ(Set({"drop"}).code, 0);
  auto c = Curl();
  // curl exit 7 "Connection refused": the SYN got a reset (a drop would be
  // exit 28, a timeout).
  EXPECT_EQ(c.code, 7) << c.err;
  // UDP gets ICMP admin-prohibited: the sender sees an error (the kernel
  // maps it to EHOSTUNREACH), not a timeout.
  EXPECT_EQ(Udp("203.0.113.10", 7).out, "EHOSTUNREACH\n");
  // And nothing reached the lab.
  EXPECT_EQ(Arrived("web", "tcp dst port 80 or udp dst port 7",
                    [] {
                      Curl();
                      Udp("203.0.113.10", 7);
                    }),
            0);
}

TEST_F(Firewall, HostRule_OnlyThatHostIsReachable) {
  auto a = Set({"accept dst4=203.0.113.10", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(Curl().out, "198.51.100.2\n");
  // The lab DNS server's address is another host: dropped, nothing arrives.
  EXPECT_EQ(Arrived("dns", "udp dst port 53 or icmp",
                    [] {
                      EXPECT_EQ(Udp("203.0.113.53", 53).out, "EHOSTUNREACH\n");
                      EXPECT_NE(Ping("203.0.113.53").code, 0);
                    }),
            0);
}

TEST_F(Firewall, NetworkAndPortRanges_TcpAndUdpMatchSeparately) {
  auto a = Set({"accept dst4=203.0.113.0/24 proto=tcp dstports=80-80", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(Curl().out, "198.51.100.2\n");
  // udp not allowed: refused at the netvm, nothing arrives.
  EXPECT_EQ(Arrived("web", "udp dst port 7",
                    [] { EXPECT_EQ(Udp("203.0.113.10", 7).out, "EHOSTUNREACH\n"); }),
            0);
  ASSERT_EQ(Fw({"add", "--before", "1", "accept proto=udp dstports=5-9"}).code, 0);
  EXPECT_EQ(Udp("203.0.113.10", 7).out, "ping\n");
}

TEST_F(Firewall, IcmpType_EchoRequestAllowedOnlyWhenListed) {
  ASSERT_EQ(Set({"accept proto=tcp", "drop"}).code, 0);
  EXPECT_NE(Ping("203.0.113.10").code, 0);
  ASSERT_EQ(Fw({"add", "--before", "0", "accept proto=icmp icmptype=8"}).code, 0);
  auto p = Ping("203.0.113.10");
  EXPECT_EQ(p.code, 0) << p.out << p.err;
}

TEST_F(Firewall, DnsSpecialTarget_NamesResolveWhileEverythingElseDrops) {
  ASSERT_EQ(Set({"accept specialtarget=dns", "drop"}).code, 0);
  auto r = inst_->Exec("work", {"getent", "ahostsv4", "web.lab"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("203.0.113.10"), std::string::npos) << r.out;
  EXPECT_NE(Curl().code, 0);
  ASSERT_EQ(Set({"accept proto=tcp", "drop"}).code, 0);
  EXPECT_NE(inst_->Exec("work", {"getent", "ahostsv4", "web.lab"}).code, 0);
}

TEST_F(Firewall, Hostname_ResolvedInSysFirewallViaTheLabDns) {
  auto a = Set({"accept dsthost=web.lab proto=tcp", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(Curl().out, "198.51.100.2\n");
  EXPECT_EQ(Udp("203.0.113.10", 7).out, "EHOSTUNREACH\n");
}

TEST_F(Firewall, Hostname_RecordChangedWhileLiveIsFollowedAtTheRefresh) {
  const std::string records = "/run/qnet/" + inst_->name() + "/lab/records";
  std::ifstream in(records);
  const std::string original((std::istreambuf_iterator<char>(in)), {});
  struct Restore {
    std::string path, text;
    ~Restore() { std::ofstream(path, std::ios::trunc) << text; }
  } restore{records, original};
  // A name of its own (web.lab may be cached from an earlier test, with its
  // TTL of 60 s) with a TTL of 1 s: the agent, its refresh floor lowered
  // for tests, follows the record within seconds.
  auto write = [&](const char* a) {
    std::ofstream(records, std::ios::trunc) << original << "mv4.lab A " << a << " 1\n";
  };
  write("203.0.113.10");
  auto a = Set({"accept dsthost=mv4.lab proto=tcp", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(Curl().out, "198.51.100.2\n");
  auto hits0 = [] {
    auto j = nlohmann::json::parse(Fw({"list", "--json"}).out, nullptr, false);
    return j.is_object() ? j["rules"][0].value("hits", uint64_t{0}) : uint64_t{0};
  };
  const uint64_t hits_before = hits0();
  ASSERT_GT(hits_before, 0u);
  // mv4.lab moves away from the web server: at the next refresh (the TTL,
  // bounded below by the agent's floor) the rule stops matching 203.0.113.10.
  write("203.0.113.77");
  int waited = 0;
  while (waited < 30 && Curl().code == 0) {
    std::this_thread::sleep_for(1s);
    waited += 1;
  }
  write("203.0.113.10");
  EXPECT_LT(waited, 30) << "the changed record was never followed";
  auto c = Curl();
  EXPECT_EQ(c.code, 7) << c.err;  // the final drop's reset
  // The refresh refilled only the rule's address set: the rule itself, and
  // so its hit counter, stayed.
  EXPECT_GE(hits0(), hits_before);
  // Back to the original record: allowed again after the next refresh.
  waited = 0;
  while (waited < 30 && Curl().code != 0) {
    std::this_thread::sleep_for(1s);
    waited += 1;
  }
  EXPECT_EQ(Curl().out, "198.51.100.2\n");
}

TEST_F(Firewall, Save_IncludesTheEditedRules) {
  ASSERT_EQ(Set({"accept dst4=203.0.113.10 proto=tcp dstports=80", "drop"}).code, 0);
  const std::string file = "/tmp/" + inst_->name() + "-saved.toml";
  auto r = inst_->Qnet({"save", file});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  std::remove(file.c_str());
  EXPECT_NE(text.find("dst4=203.0.113.10"), std::string::npos) << text;
  EXPECT_NE(text.find("drop"), std::string::npos) << text;
}

TEST_F(Firewall, DelByNumberAndByText_AndListShowsTheRules) {
  ASSERT_EQ(Set({"drop dst4=203.0.113.10", "accept"}).code, 0);
  EXPECT_NE(Curl().code, 0);
  auto d = Fw({"del", "0"});
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_EQ(Curl().out, "198.51.100.2\n");
  ASSERT_EQ(Fw({"add", "--before", "0", "drop proto=tcp"}).code, 0);
  EXPECT_NE(Curl().code, 0);
  auto l = Fw({"list"});
  EXPECT_NE(l.out.find("tcp"), std::string::npos) << l.out;
  ASSERT_EQ(Fw({"del", "drop proto=tcp"}).code, 0);
  EXPECT_EQ(Curl().out, "198.51.100.2\n");
}

TEST_F(Firewall, RuleChange_CutsADeniedEstablishedConnectionAndKeepsAnAllowedOne) {
  ASSERT_EQ(Set({"accept dst4=203.0.113.10 proto=tcp dstports=7", "accept"}).code, 0);
  auto cut = std::async(std::launch::async, [] {
    return inst_->Exec("work", {"python3", "-c", kEchoClient, "20"});
  });
  std::this_thread::sleep_for(1500ms);
  // Now port 7 is denied; HTTP stays allowed.
  ASSERT_EQ(Fw({"add", "--before", "0", "drop dst4=203.0.113.10 proto=tcp dstports=7"}).code, 0);
  auto r = cut.get();
  EXPECT_NE(r.out.find("connected"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("echo 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ConnectionResetError"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.out.find("echo 19"), std::string::npos) << r.out;

  // The other half: a change that still allows the flow leaves it running.
  ASSERT_EQ(Fw({"reset"}).code, 0);
  auto kept = std::async(std::launch::async, [] {
    return inst_->Exec("work", {"python3", "-c", kEchoClient, "10"});
  });
  std::this_thread::sleep_for(1s);
  ASSERT_EQ(Fw({"add", "--before", "0", "drop dst4=203.0.113.10 proto=tcp dstports=80"}).code, 0);
  auto k = kept.get();
  EXPECT_NE(k.out.find("echo 9"), std::string::npos) << k.out << k.err;
  EXPECT_EQ(k.out.find("Error"), std::string::npos) << k.out;
  EXPECT_NE(Curl().code, 0);
}

struct BadRule {
  std::vector<std::string> args;
  std::string error;  // the CLI's whole stderr
};

TEST_F(Firewall, BadRules_AreRefusedWithTheRuleAndFieldAndChangeNothing) {
  ASSERT_EQ(Set({"drop dst4=203.0.113.10 proto=tcp dstports=80", "accept"}).code, 0);
  const auto before = Fw({"list"}).out;
  const auto kernel_before = ClientObjects(*inst_, "sys-firewall", Id("work"));
  ASSERT_TRUE(kernel_before.is_array());
  ASSERT_EQ(CountRules(kernel_before), 3u) << kernel_before.dump();
  const BadRule table[] = {
      {{"add", "accept proto=tcp dstports=99999"},
       "qnet: rule 'accept proto=tcp dstports=99999': dstports: port 99999 out of range 0-65535\n"},
      {{"add", "accept dstports=80-7 proto=tcp"},
       "qnet: rule 'accept dstports=80-7 proto=tcp': dstports: range 80-7: first port above "
       "last\n"},
      {{"add", "accept icmptype=8"},
       "qnet: rule 'accept icmptype=8': icmptype: valid only with proto=icmp\n"},
      {{"add", "accept proto=icmp icmptype=256"},
       "qnet: rule 'accept proto=icmp icmptype=256': icmptype: type 256 out of range 0-255\n"},
      {{"add", "allow"}, "qnet: rule 'allow': action: 'allow' is not accept or drop\n"},
      {{"add", "accept proto=sctp"},
       "qnet: rule 'accept proto=sctp': proto: 'sctp' is not tcp, udp or icmp\n"},
      {{"add", "accept proto=tcp proto=udp"},
       "qnet: rule 'accept proto=tcp proto=udp': proto: given twice\n"},
      {{"add", "accept dst4=300.1.1.1"},
       "qnet: rule 'accept dst4=300.1.1.1': dst4: '300.1.1.1' is not an IP address\n"},
      {{"add", "accept dst4=1.2.3.4/33"},
       "qnet: rule 'accept dst4=1.2.3.4/33': dst4: prefix length 33 out of range 0-32 for IPv4\n"},
      {{"add", "accept dst6=10.0.0.1"},
       "qnet: rule 'accept dst6=10.0.0.1': dst6: '10.0.0.1' is not an IPv6 address or network\n"},
      {{"add", "accept dsthost=Web.lab"},
       "qnet: rule 'accept dsthost=Web.lab': dsthost: hostname 'Web.lab' must be lowercase\n"},
      {{"add", "accept specialtarget=x"},
       "qnet: rule 'accept specialtarget=x': specialtarget: 'x' is not supported (only dns)\n"},
      {{"add", "accept expire=soon"},
       "qnet: rule 'accept expire=soon': expire: 'soon' is not a unix time or +SECONDS\n"},
      {{"add", "accept comment=a;b$"},
       "qnet: rule 'accept comment=a;b$': comment: character '$' not allowed (letters, digits, "
       "spaces and :;,./-_[] only)\n"},
      {{"add", "accept 1.2.3.4 tcp 80 extra"},
       "qnet: rule 'accept 1.2.3.4 tcp 80 extra': extra: one value too many for ACTION [DSTHOST "
       "[PROTO [DSTPORTS|ICMPTYPE]]]\n"},
      {{"add", "accept foo=bar"},
       "qnet: rule 'accept foo=bar': foo: unknown option (known: action, dsthost, dst4, dst6, "
       "proto, dstports, icmptype, specialtarget, expire, comment)\n"},
      // One bad rule among good ones: none is added.
      {{"add", "--rules", "accept", "accept dstports=80"},
       "qnet: rule 'accept dstports=80': dstports: valid only with proto=tcp or proto=udp\n"},
      // --before past the end (rules are 0-1; 2 appends, 3 is past it).
      {{"add", "--before", "99", "accept"}, "qnet: --before 99: there are only 2 rules (0-1)\n"},
      {{"add", "--before", "3", "accept"}, "qnet: --before 3: there are only 2 rules (0-1)\n"},
      {{"del", "7"}, "qnet: no rule 7 (rules are numbered 0-1)\n"},
      {{"del", "drop proto=udp"}, "qnet: no rule 'action=drop proto=udp'\n"},
  };
  for (const BadRule& b : table) {
    auto r = Fw(b.args);
    EXPECT_NE(r.code, 0) << b.args.back();
    EXPECT_EQ(r.err, b.error) << b.args.back();
    EXPECT_EQ(r.out, "") << b.args.back();
  }
  // Nothing changed: neither qnetd's list nor the kernel's objects (the same
  // rules under the same handles: no flush and refill either).
  EXPECT_EQ(Fw({"list"}).out, before);
  EXPECT_EQ(ClientObjects(*inst_, "sys-firewall", Id("work")), kernel_before);
  EXPECT_EQ(Curl().code, 7);
}

// A negative rule number is no position: refused, naming --before, rather
// than taken as "append".
TEST_F(Firewall, BadRules_NegativeBeforeIsRefusedAndChangesNothing) {
  ASSERT_EQ(Set({"drop dst4=203.0.113.10 proto=tcp dstports=80", "accept"}).code, 0);
  const auto before = Fw({"list"}).out;
  const auto kernel_before = ClientObjects(*inst_, "sys-firewall", Id("work"));
  ASSERT_TRUE(kernel_before.is_array());
  auto r = Fw({"add", "--before", "-1", "accept proto=tcp"});
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.err.find("--before"), std::string::npos) << r.err;
  EXPECT_EQ(Fw({"list"}).out, before);
  EXPECT_EQ(ClientObjects(*inst_, "sys-firewall", Id("work")), kernel_before);
  EXPECT_EQ(Curl().code, 7);
}

TEST_F(Firewall, KernelRefusal_OnlyThatQubeDropsAndListShowsTheError) {
  // Someone else (root in sys-firewall, not qnet) made a set under the name
  // the compiler gives work's rule 0 hostname set, with another type: the
  // kernel refuses work's next list (EEXIST). A valid list, a real kernel
  // error.
  const auto id = LsRow(*inst_, "work").value("id", 0);
  ASSERT_GT(id, 0);
  const std::string set = fmt::format("fw-{}-a0-4", id);
  auto made = inst_->InNetns("sys-firewall",
                             {"nft", "add", "set", "inet", "qnet", set, "{ type inet_service ; }"});
  ASSERT_EQ(made.code, 0) << made.err;
  auto a = Fw({"add", "--before", "0", "accept dsthost=web.lab proto=tcp"});
  EXPECT_NE(a.code, 0);
  EXPECT_NE(a.err.find("drop-all"), std::string::npos) << a.err;
  // work: drop-all (the final drop's reset), never open.
  EXPECT_EQ(Curl().code, 7);
  EXPECT_EQ(Udp("203.0.113.10", 7).out, "EHOSTUNREACH\n");
  // personal, the other client of sys-firewall, keeps its rules.
  EXPECT_EQ(inst_->Exec("personal", {"curl", "-sS", "--max-time", "5", "http://203.0.113.10/"}).out,
            "198.51.100.2\n");
  // The list is kept as asked, with the error.
  auto l = Fw({"list"});
  EXPECT_NE(l.out.find("web.lab"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("error: "), std::string::npos) << l.out;
  auto j = nlohmann::json::parse(Fw({"list", "--json"}).out, nullptr, false);
  ASSERT_TRUE(j.is_object());
  EXPECT_TRUE(j["error"].is_string()) << j.dump();
  // The obstacle goes; `apply` brings the rules in force.
  auto rm = inst_->InNetns("sys-firewall", {"nft", "delete", "set", "inet", "qnet", set});
  ASSERT_EQ(rm.code, 0) << rm.err;
  auto ap = Fw({"apply"});
  ASSERT_EQ(ap.code, 0) << ap.err;
  EXPECT_EQ(Curl().out, "198.51.100.2\n");
  EXPECT_EQ(Fw({"list"}).out.find("error: "), std::string::npos);
}

TEST_F(Firewall, AgentRestart_TheNewAgentKnowsWhatTheOldOneInstalled) {
  // A hostname rule has a set of its own, fw-<id>-a0-4 (a name refresh
  // only refills it, so the old agent's set is still there when the new
  // agent takes over).
  ASSERT_EQ(Fw({"add", "--before", "0", "accept dsthost=web.lab proto=tcp"}).code, 0);
  const auto id = LsRow(*inst_, "work").value("id", 0);
  const std::string set = fmt::format("fw-{}-a0-4", id);
  auto sets = [] { return inst_->InNetns("sys-firewall", {"nft", "list", "sets", "inet"}).out; };
  ASSERT_NE(sets().find(set), std::string::npos) << sets();
  // Kill sys-firewall's agent; its init starts a new one.
  const int init = LsRow(*inst_, "sys-firewall").value("pid", 0);
  auto agent = [init] {
    int pid = 0;
    std::ifstream(fmt::format("/proc/{}/task/{}/children", init, init)) >> pid;
    return pid;
  };
  const int old = agent();
  ASSERT_GT(old, 0);
  ::kill(old, SIGKILL);
  int now = 0;
  for (int i = 0; i < 100 && (now == 0 || now == old); ++i) {
    std::this_thread::sleep_for(50ms);
    now = agent();
  }
  ASSERT_NE(now, old);
  EXPECT_EQ(Curl().out, "198.51.100.2\n");  // the rules stayed in force
  // The new agent removes the old one's set when the rule goes.
  auto r = Fw({"reset"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sets().find(set), std::string::npos) << sets();
  EXPECT_EQ(Curl().out, "198.51.100.2\n");
}

// ---- A tor gateway's client: the default list only, said so; nothing forwards.

TEST_F(Firewall, TorGatewayClient_RulesAreRefusedAndTheDefaultIsAccepted) {
  const auto before = FwOf("anon", {"list"});
  ASSERT_EQ(before.code, 0) << before.err;
  for (const char* rule : {"drop", "accept dst4=203.0.113.10 proto=tcp dstports=80"}) {
    auto r = FwOf("anon", {"add", "--before", "0", rule});
    EXPECT_NE(r.code, 0) << rule;
    EXPECT_EQ(r.err,
              "qnet: firewall anon (at sys-whonix): client anon: a tor gateway (sys-whonix) "
              "carries only Tor: its clients accept only the default firewall list "
              "[\"accept\"]\n")
        << rule;
  }
  EXPECT_EQ(FwOf("anon", {"list"}).out, before.out);  // nothing changed
  // The default list is fine: reset and apply succeed.
  auto reset = FwOf("anon", {"reset"});
  EXPECT_EQ(reset.code, 0) << reset.err;
  auto apply = FwOf("anon", {"apply"});
  EXPECT_EQ(apply.code, 0) << apply.err;
  // The gateway forwards nothing: with no tor bootstrapped behind it, anon's
  // TCP is refused at once (reset by the closed gate, never left hanging),
  // UDP and ICMP are dropped, and none reaches the lab, while the same
  // probes from a qube behind sys-net arrive through the same capture.
  const std::string web = "http://203.0.113.10/";
  const std::string filter = "tcp dst port 80 or udp dst port 7 or icmp";
  EXPECT_GT(Arrived("web", filter,
                    [&] {
                      EXPECT_EQ(Curl(web, "direct").out, "198.51.100.2\n");
                      EXPECT_EQ(Udp("203.0.113.10", 7, "direct").out, "ping\n");
                      EXPECT_EQ(Ping("203.0.113.10", "direct").code, 0);
                    }),
            0);
  EXPECT_EQ(Arrived("web", filter,
                    [&] {
                      const auto start = std::chrono::steady_clock::now();
                      auto c = Curl(web, "anon");
                      EXPECT_EQ(c.code, 7) << "expected a refusal (reset), got curl exit " << c.code
                                           << ": " << c.out << c.err;
                      EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
                      EXPECT_EQ(Udp("203.0.113.10", 7, "anon").out, "timeout\n");
                      EXPECT_EQ(Ping("203.0.113.10", "anon").code, 1);
                    }),
            0);
  // `qnet tor` says why: no tor has bootstrapped, the gate is closed, and
  // the refusal and the drops are counted.
  // tor runs in the gateway, supervised as its own uid (DisableNetwork in a
  // lab without its Tor network): the agent reaches its control socket.
  CmdResult st;
  nlohmann::json j;
  for (int i = 0; i < 60; ++i) {
    st = inst_->Qnet({"tor", "sys-whonix", "status", "--json"});
    ASSERT_EQ(st.code, 0) << st.err;
    j = nlohmann::json::parse(st.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << st.out;
    if (j["control"] == "ready" && j.contains("bootstrap")) break;
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_EQ(j["control"], "ready") << st.out;
  EXPECT_LT(j["bootstrap"].value("progress", 100), 100) << st.out;
  EXPECT_EQ(j["gate"], "closed") << st.out;
  EXPECT_GT(j["counters"].value("tor-refused", 0), 0) << st.out;
  EXPECT_GT(j["counters"].value("tor-forward-drop", 0), 0) << st.out;
  auto text = inst_->Qnet({"tor", "sys-whonix"});
  EXPECT_NE(text.out.find("gate: closed"), std::string::npos) << text.out << text.err;
  auto not_tor = inst_->Qnet({"tor", "anon", "status"});
  EXPECT_NE(not_tor.code, 0);
  EXPECT_NE(not_tor.err.find("anon is not a tor gateway"), std::string::npos) << not_tor.err;
}

// ---- sys-net enforces the rules of a qube attached straight to it.

TEST_F(Firewall, SysNet_EnforcesTheRulesOfAQubeAttachedToIt) {
  struct Reset {
    ~Reset() { FwOf("direct", {"reset"}); }
  } reset;
  // Positive control under the default accept: the dns host answers on
  // TCP 53, and the capture below sees what arrives.
  EXPECT_EQ(Tcp("203.0.113.53", 53, "direct").out, "connected\n");
  EXPECT_GT(Arrived("dns", "udp dst port 53", [] { Dns("203.0.113.53", "direct"); }), 0);
  auto a = SetOf("direct", {"accept dst4=203.0.113.10 proto=tcp dstports=80", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  // The rules are in sys-net's table, under direct's id.
  auto chain = inst_->InNetns(
      "sys-net", {"nft", "list", "chain", "inet", "qnet", fmt::format("fw-{}", Id("direct"))});
  // (Each destination carries its family test, as nft writes it, so the
  // listing reads as nft's own text and loads back.)
  EXPECT_NE(chain.out.find("ip daddr 203.0.113.10 tcp dport 80 counter"), std::string::npos)
      << chain.out << chain.err;
  EXPECT_NE(chain.out.find("comment \"rule 0\""), std::string::npos) << chain.out;
  // The allowed host: reached through sys-net's masquerade.
  EXPECT_EQ(Curl("http://203.0.113.10/", "direct").out, "198.51.100.2\n");
  // The denied ones: a reset for TCP, ICMP admin-prohibited for UDP, and
  // nothing reaches the lab.
  EXPECT_EQ(Arrived("dns", "tcp port 53 or udp port 53",
                    [] {
                      EXPECT_EQ(Tcp("203.0.113.53", 53, "direct").out, "ConnectionRefusedError\n");
                      EXPECT_EQ(Dns("203.0.113.53", "direct").out, "EHOSTUNREACH\n");
                    }),
            0);
  EXPECT_EQ(Arrived("web", "tcp port 7 or udp port 7",
                    [] {
                      EXPECT_EQ(Tcp("203.0.113.10", 7, "direct").out, "ConnectionRefusedError\n");
                      EXPECT_EQ(Udp("203.0.113.10", 7, "direct").out, "EHOSTUNREACH\n");
                    }),
            0);
  // sys-net answers the blocked ping itself (its own address, 10.137.0.x).
  const std::string sys_net = LsRow(*inst_, "sys-net").value("ip", "");
  auto p = Ping("203.0.113.10", "direct");
  EXPECT_EQ(p.code, 1);
  EXPECT_NE(p.out.find("From " + sys_net + " icmp_seq=1 Packet filtered"), std::string::npos)
      << p.out;
  // The list is direct's alone: work, behind sys-firewall, still reaches dns.
  EXPECT_EQ(Tcp("203.0.113.53", 53).out, "connected\n");
}

// ---- A change to one client leaves every other client's kernel objects as
// they were (a change flushes and refills only that client's chain).

TEST_F(Firewall, OneClientsChange_LeavesTheOtherClientsKernelObjectsUntouched) {
  struct Reset {
    ~Reset() { FwOf("personal", {"reset"}); }
  } reset;
  // personal gets more than the default: an expiring rule (a chain of its
  // own), an ICMP drop and an accept.
  ASSERT_EQ(SetOf("personal", {"accept dst4=203.0.113.10 proto=tcp dstports=80 expire=+900",
                               "drop proto=icmp", "accept"})
                .code,
            0);
  const int personal = Id("personal"), work = Id("work");
  ASSERT_GT(personal, 0);
  const auto before = ClientObjects(*inst_, "sys-firewall", personal);
  ASSERT_TRUE(before.is_array());
  ASSERT_GE(CountRules(before), 4u) << before.dump();
  // Each kind of change to work: an insertion, a hostname (sets of work's
  // own), an expiring rule, a deletion, a reset.
  const std::vector<std::vector<std::string>> changes = {
      {"add", "--before", "0", "drop dst4=203.0.113.53"},
      {"add", "--before", "1", "accept dsthost=web.lab proto=tcp"},
      {"add", "--before", "0", "accept proto=udp dstports=7 expire=+600"},
      {"del", "1"},
      {"reset"},
  };
  for (const auto& change : changes) {
    const auto work_before = ClientObjects(*inst_, "sys-firewall", work);
    auto r = Fw(change);
    ASSERT_EQ(r.code, 0) << fmt::format("{}", fmt::join(change, " ")) << r.err;
    // The comparison sees a change where there is one: work's own objects.
    EXPECT_NE(ClientObjects(*inst_, "sys-firewall", work), work_before)
        << fmt::format("{}", fmt::join(change, " "));
    EXPECT_EQ(ClientObjects(*inst_, "sys-firewall", personal), before)
        << fmt::format("{}", fmt::join(change, " "));
  }
  // And what personal observes: its rules held throughout.
  EXPECT_EQ(Curl("http://203.0.113.10/", "personal").out, "198.51.100.2\n");
  EXPECT_EQ(Ping("203.0.113.10", "personal").code, 1);
}

// ---- What the sender observes, per rule kind (IPv4).

TEST_F(Firewall, BlockedPing_SenderSeesIcmpAdminProhibitedFromItsNetvm) {
  auto ok = Ping("203.0.113.10");
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;  // the positive control
  ASSERT_EQ(Set({"accept proto=tcp", "drop"}).code, 0);
  auto p = Ping("203.0.113.10");
  // ICMP destination unreachable code 13 (communication administratively
  // prohibited) from sys-firewall: iputils ping prints "Packet filtered"
  // and exits 1 (no reply).
  const std::string sys_firewall = LsRow(*inst_, "sys-firewall").value("ip", "");
  ASSERT_FALSE(sys_firewall.empty());
  EXPECT_EQ(p.code, 1) << p.out << p.err;
  EXPECT_NE(p.out.find("From " + sys_firewall + " icmp_seq=1 Packet filtered\n"), std::string::npos)
      << p.out;
  EXPECT_NE(p.out.find("1 packets transmitted, 0 received, +1 errors"), std::string::npos) << p.out;
}

TEST_F(Firewall, BlockedDns_QueryToTheVirtualDnsGetsHostUnreachableAndNothingArrives) {
  EXPECT_EQ(Dns("10.139.1.1").out, "answer\n");  // the positive control
  ASSERT_EQ(Set({"accept proto=tcp", "drop"}).code, 0);
  // The reject of the DNATed query comes back as from 10.139.1.1: the UDP
  // socket gets EHOSTUNREACH at once.
  EXPECT_EQ(
      Arrived("dns", "udp port 53", [] { EXPECT_EQ(Dns("10.139.1.1").out, "EHOSTUNREACH\n"); }), 0);
  // getent fails too.
  EXPECT_NE(inst_->Exec("work", {"getent", "ahostsv4", "web.lab"}).code, 0);
}

TEST_F(Firewall, TcpToAHostNotInTheList_GetsAResetAndNothingArrives) {
  // Positive control: the dns host accepts TCP 53 under the default accept.
  EXPECT_EQ(Tcp("203.0.113.53", 53).out, "connected\n");
  ASSERT_EQ(Set({"accept dst4=203.0.113.10", "drop"}).code, 0);
  EXPECT_EQ(Tcp("203.0.113.10", 7).out, "connected\n");
  EXPECT_EQ(Arrived("dns", "tcp",
                    [] { EXPECT_EQ(Tcp("203.0.113.53", 53).out, "ConnectionRefusedError\n"); }),
            0);
  auto c = Curl("http://203.0.113.53/");
  EXPECT_EQ(c.code, 7) << c.err;
}

// Ranges are inclusive at both ends, and their neighbours fall through. web
// listens on TCP 7 and 80: 7-80 puts listeners on lo and hi, 8-79 puts them
// on lo-1 and hi+1; where no listener exists, the capture shows the verdict
// (a SYN that arrives was let through; web's own kernel resets it).
TEST_F(Firewall, PortRangeEdges_BothEndsMatchAndTheirNeighboursDoNot) {
  const std::string web = "203.0.113.10";
  ASSERT_EQ(Set({"accept dst4=203.0.113.10 proto=tcp dstports=7-80", "drop"}).code, 0);
  EXPECT_EQ(Tcp(web, 7).out, "connected\n");   // lo
  EXPECT_EQ(Tcp(web, 80).out, "connected\n");  // hi
  EXPECT_EQ(Arrived("web", "tcp dst port 6 or tcp dst port 81",
                    [&] {
                      EXPECT_EQ(Tcp(web, 6).out, "ConnectionRefusedError\n");   // lo-1
                      EXPECT_EQ(Tcp(web, 81).out, "ConnectionRefusedError\n");  // hi+1
                    }),
            0);
  ASSERT_EQ(Set({"accept dst4=203.0.113.10 proto=tcp dstports=8-79", "drop"}).code, 0);
  EXPECT_EQ(Arrived("web", "tcp dst port 7 or tcp dst port 80",
                    [&] {
                      EXPECT_EQ(Tcp(web, 7).out, "ConnectionRefusedError\n");   // lo-1
                      EXPECT_EQ(Tcp(web, 80).out, "ConnectionRefusedError\n");  // hi+1
                    }),
            0);
  // lo and hi: exactly one SYN each reaches web.
  EXPECT_EQ(Arrived("web", "tcp[tcpflags] & tcp-syn != 0 and (tcp dst port 8 or tcp dst port 79)",
                    [&] {
                      Tcp(web, 8);
                      Tcp(web, 79);
                    }),
            2);
  // UDP the same way around the echo port: 7-9 holds it at lo, 5-6 and 8-9
  // are its neighbours' ranges.
  ASSERT_EQ(Set({"accept dst4=203.0.113.10 proto=udp dstports=7-9", "drop"}).code, 0);
  EXPECT_EQ(Udp(web, 7).out, "ping\n");
  ASSERT_EQ(Set({"accept dst4=203.0.113.10 proto=udp dstports=5-6",
                 "accept dst4=203.0.113.10 proto=udp dstports=8-9", "drop"})
                .code,
            0);
  EXPECT_EQ(Arrived("web", "udp dst port 7", [&] { EXPECT_EQ(Udp(web, 7).out, "EHOSTUNREACH\n"); }),
            0);
}

TEST_F(Firewall, DnsSpecialTarget_DirectQueryToTheLabDnsIsRefusedAndNeverArrives) {
  ASSERT_EQ(Set({"accept specialtarget=dns", "drop"}).code, 0);
  // Names resolve through the virtual DNS...
  EXPECT_EQ(Dns("10.139.1.1").out, "answer\n");
  auto r = inst_->Exec("work", {"getent", "ahostsv4", "web.lab"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("203.0.113.10"), std::string::npos) << r.out;
  // ...but port 53 of another server is not the special target.
  EXPECT_EQ(Arrived("dns", "udp port 53 or tcp port 53",
                    [] {
                      EXPECT_EQ(Dns("203.0.113.53").out, "EHOSTUNREACH\n");
                      EXPECT_EQ(Tcp("203.0.113.53", 53).out, "ConnectionRefusedError\n");
                    }),
            0);
}

TEST_F(Firewall, ExpiringDrop_RefusedBeforeItsExpiryAndAllowedAfterIt) {
  auto a = Set({"drop dst4=203.0.113.10 proto=tcp dstports=80 expire=+4", "accept"});
  ASSERT_EQ(a.code, 0) << a.err;
  auto c = Curl();
  EXPECT_EQ(c.code, 7) << c.out << c.err;                // the drop's reset
  EXPECT_EQ(Tcp("203.0.113.10", 7).out, "connected\n");  // the rest is open
  std::this_thread::sleep_for(5500ms);                   // expiry + 1.5 s
  EXPECT_EQ(Curl().out, "198.51.100.2\n");
}

// ---- `qnet firewall QUBE list`

TEST_F(Firewall, List_ShowsTheQvmFirewallColumnsAndHits) {
  ASSERT_EQ(Set({"accept proto=tcp dstports=80", "drop"}).code, 0);
  EXPECT_EQ(Curl().code, 0);
  auto l = Fw({"list"});
  ASSERT_EQ(l.code, 0) << l.err;
  EXPECT_EQ(l.err, "");
  // Columns as wide as their widest cell plus two spaces.
  const std::regex table(
      "NO  ACTION  HOST  PROTOCOL  PORT\\(S\\)  SPECIAL TARGET  ICMP TYPE  EXPIRE  COMMENT  HITS\n"
      "0   accept  -     tcp       80       -               -          -       -        "
      "[1-9][0-9]*\n"
      "1   drop    -     -         -        -               -          -       -        0\n");
  EXPECT_TRUE(std::regex_match(l.out, table)) << l.out;
}

TEST_F(Firewall, List_AnUnresolvedHostnameShowsItsNote) {
  ASSERT_EQ(Set({"accept dsthost=nowhere.lab", "drop"}).code, 0);
  // The rule matches nothing; the rest of the list holds.
  EXPECT_EQ(Curl().code, 7);
  auto l = Fw({"list"});
  ASSERT_EQ(l.code, 0) << l.err;
  const std::regex table(
      "NO  ACTION  HOST         PROTOCOL  PORT\\(S\\)  SPECIAL TARGET  ICMP TYPE  EXPIRE  COMMENT  "
      "HITS\n"
      "0   accept  nowhere\\.lab  -         -        -               -          -       -        "
      "0\n"
      "1   drop    -            -         -        -               -          -       -        "
      "[0-9]+\n"
      "note: rule 0 \\(action=accept dsthost=nowhere\\.lab\\): nowhere\\.lab did not resolve "
      "\\([^)\n]+\\): the rule matches nothing\n");
  EXPECT_TRUE(std::regex_match(l.out, table)) << l.out;
  auto j = nlohmann::json::parse(Fw({"list", "--json"}).out, nullptr, false);
  ASSERT_TRUE(j.is_object());
  ASSERT_TRUE(j["notes"].is_array()) << j.dump();
  ASSERT_EQ(j["notes"].size(), 1u) << j.dump();
  EXPECT_EQ(j["notes"][0].get<std::string>().rfind(
                "rule 0 (action=accept dsthost=nowhere.lab): nowhere.lab did not resolve (", 0),
            0u)
      << j.dump();
}

TEST_F(Firewall, Expire_QnetdDropsTheRuleFromItsListAtItsTime) {
  auto a = Set({"accept dst4=203.0.113.10 proto=tcp expire=+3", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  std::this_thread::sleep_for(5s);
  // `save` writes qnetd's lists as they are, without pruning them itself.
  const std::string file = "/tmp/" + inst_->name() + "-expired.toml";
  ASSERT_EQ(inst_->Qnet({"save", file}).code, 0);
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  std::remove(file.c_str());
  EXPECT_EQ(text.find("expire"), std::string::npos) << text;
  EXPECT_NE(text.find("drop"), std::string::npos) << text;
}

TEST_F(Firewall, Expire_RuleStopsMatchingWithin2sWithTheAgentAndQnetdStopped) {
  auto a = Set({"accept dst4=203.0.113.10 proto=tcp expire=+4", "drop"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(Curl().out, "198.51.100.2\n");
  // sys-firewall's init and agent stopped (nothing there can act), qnetd killed.
  const auto stopped = FindPids({"qnet-agent", inst_->name(), "sys-firewall"});
  ASSERT_FALSE(stopped.empty());
  for (int pid : stopped) ::kill(pid, SIGSTOP);
  struct Resume {
    std::vector<int> pids;
    ~Resume() {
      for (int pid : pids) ::kill(pid, SIGCONT);
    }
  } resume{stopped};
  for (int pid : FindPids({"qnetd", inst_->name()})) ::kill(pid, SIGKILL);
  // `qnet exec` needs qnetd: send from work's namespace directly.
  auto curl = [] {
    return inst_->InNetns("work", {"curl", "-sS", "--max-time", "5", "http://203.0.113.10/"});
  };
  EXPECT_EQ(curl().out, "198.51.100.2\n");
  std::this_thread::sleep_for(5500ms);  // expiry + 1.5 s
  auto c = curl();
  EXPECT_EQ(c.code, 7) << c.out << c.err;  // the final drop's reset
}

}  // namespace
}  // namespace qnet::testing
