#include "qnet/firewall/compiler.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "nft_eval.h"
#include "qnet/firewall/nft_names.h"
#include "qnet/firewall/rule_parser.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/batch.h"
#include "sample_policy.h"

namespace qnet::firewall {
namespace {

using testing::Evaluator;
using testing::Outcome;
using testing::OutcomeName;
using testing::Packet;

constexpr int64_t kNow = 1700000000;
constexpr uint64_t kNowNs = uint64_t{kNow} * 1'000'000'000;

using testing::Ip;
using testing::SampleNames;

Client MakeClient(std::string name, uint32_t id, std::vector<std::string> rules, bool v6 = true) {
  return testing::MakeClient(std::move(name), id, std::move(rules), kNow, v6);
}

std::vector<Client> SampleClients() { return testing::SampleClients(kNow); }

CompiledFirewall CompileSample() {
  auto fw = Compile(SampleClients(), SampleNames(), kNow);
  EXPECT_TRUE(fw.has_value()) << fw.error().message();
  return fw.has_value() ? *fw : CompiledFirewall{};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The golden file holds host-order time masks (little endian here). To
// refresh it after an intended change: QNET_UPDATE_GOLDEN=1 firewall_test.
TEST(CompilerGolden, SamplePolicyMatchesGoldenFile) {
  std::string path = std::string(QNET_FIREWALL_GOLDEN_DIR) + "/sample_policy.txt";
  std::string rendered = Render(CompileSample());
  if (std::getenv("QNET_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << rendered;
  }
  std::string golden = ReadFile(path);
  if (rendered == golden) return;
  // Report the first differing line, not two whole files.
  std::istringstream got(rendered), want(golden);
  std::string got_line, want_line;
  for (int line = 1;; ++line) {
    bool more_got = static_cast<bool>(std::getline(got, got_line));
    bool more_want = static_cast<bool>(std::getline(want, want_line));
    if (!more_got && !more_want) break;
    if (got_line != want_line || more_got != more_want) {
      ADD_FAILURE() << path << ":" << line << " differs\n  got:  " << got_line
                    << "\n  want: " << want_line;
      break;
    }
  }
}

// ---- What packets observe (through the interpreter in nft_eval.h) ----

struct Probe {
  std::string what;
  Packet packet;
  Outcome expected;
};

Packet From(uint32_t id, std::string_view daddr, uint8_t proto, uint16_t dport) {
  Packet p;
  p.iifname = fmt::format("vif{}.0", id);
  IpAddr d = Ip(daddr);
  p.saddr = d.is_v4() ? IpAddr::V4(10, 137, 0, static_cast<uint8_t>(id))
                      : Ip(fmt::format("fd09:24ef:4179::a89:{:x}", id));
  p.daddr = d;
  p.l4proto = proto;
  p.dport = dport;
  p.icmp_type = static_cast<uint8_t>(dport);
  p.time_ns = kNowNs;
  return p;
}

Packet At(Packet p, int64_t seconds_from_now) {
  p.time_ns = kNowNs + static_cast<uint64_t>(seconds_from_now * 1'000'000'000);
  return p;
}

Packet Dns(uint32_t id, std::string_view virtual_dns, std::string_view upstream, uint8_t proto) {
  Packet p = From(id, upstream, proto, 53);
  p.ct_original_daddr = Ip(virtual_dns);
  return p;
}

TEST(Compiler, SamplePolicyGivesQubesVerdicts) {
  constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmpv6 = 58;
  Evaluator eval(CompileSample());
  const Probe probes[] = {
      {"hostname accept, port in range", From(12, "203.0.113.10", kTcp, 443), Outcome::kAccept},
      {"hostname accept over IPv6", From(12, "2001:db8:2::10", kTcp, 80), Outcome::kAccept},
      {"hostname, port outside range", From(12, "203.0.113.10", kTcp, 8080),
       Outcome::kRejectTcpReset},
      {"hostname accept is tcp only", From(12, "203.0.113.10", kUdp, 443), Outcome::kRejectIcmp},
      {"dns by original destination, udp", Dns(12, "10.139.1.1", "203.0.113.53", kUdp),
       Outcome::kAccept},
      {"dns by original destination, tcp", Dns(12, "10.139.1.2", "203.0.113.53", kTcp),
       Outcome::kAccept},
      {"upstream resolver directly is not dns target", From(12, "198.51.100.9", kUdp, 53),
       Outcome::kRejectIcmp},
      {"icmp echo to network", From(12, "203.0.113.99", kIcmp, 8), Outcome::kAccept},
      {"any icmp (rule 3)", From(12, "198.51.100.77", kIcmp, 3), Outcome::kAccept},
      {"icmpv6 via proto=icmp", From(12, "2001:db8:9::1", kIcmpv6, 128), Outcome::kAccept},
      {"ipv6 network dropped", From(12, "2001:db8:2::99", kTcp, 80), Outcome::kRejectTcpReset},
      {"first match wins: drop before later accept", From(12, "2001:db8:2::10", kUdp, 80),
       Outcome::kRejectIcmp},
      {"expiring accept before expiry", At(From(12, "203.0.113.53", kUdp, 53), 599),
       Outcome::kAccept},
      {"expiring accept after expiry", At(From(12, "203.0.113.53", kUdp, 53), 601),
       Outcome::kRejectIcmp},
      {"expiring drop before expiry", At(From(12, "203.0.113.7", kTcp, 22), 59),
       Outcome::kRejectTcpReset},
      {"after expiring drop, udp 7 drop", From(12, "203.0.113.7", kUdp, 7), Outcome::kRejectIcmp},
      {"explicit address accept", From(12, "198.51.100.1", kTcp, 1234), Outcome::kAccept},
      {"end of list drops", From(12, "198.51.100.2", kTcp, 1234), Outcome::kRejectTcpReset},
      {"default list accepts all", From(13, "198.51.100.2", kUdp, 9), Outcome::kAccept},
      {"default list accepts ipv6", From(13, "2001:db8:9::1", kTcp, 9), Outcome::kAccept},
      {"mail hostname accept", From(14, "203.0.113.25", kTcp, 993), Outcome::kAccept},
      {"unresolved drop closes the rest", From(14, "198.51.100.2", kTcp, 80),
       Outcome::kRejectTcpReset},
      {"client without ipv6: its ipv6 is an unknown source", From(14, "2001:db8:9::1", kTcp, 80),
       Outcome::kDrop},
      {"expired rule left out", From(15, "198.51.100.2", kTcp, 80), Outcome::kRejectTcpReset},
      {"dns rule with proto=icmp matches nothing", Dns(15, "10.139.1.1", "203.0.113.53", kUdp),
       Outcome::kRejectIcmp},
  };
  for (const Probe& probe : probes) {
    EXPECT_STREQ(OutcomeName(eval.Run(probe.packet)), OutcomeName(probe.expected)) << probe.what;
  }
}

// Everything compiled passes the nft layer's own checks (names, data
// lengths, no Unsupported expression) and encodes as one batch.
TEST(Compiler, OutputIsAcceptedByNftBatch) {
  CompiledFirewall fw = CompileSample();
  nft::Table table = nft::QnetTable();
  nft::Batch batch;
  std::map<std::string, nft::Set> shared_sets;
  for (const nft::Chain& c : fw.chains) batch.AddChain(table, c);
  for (const nft::Set& s : fw.sets) {
    batch.AddSet(table, s);
    shared_sets[s.name] = s;
  }
  for (const nft::CounterObject& c : fw.counters) batch.AddCounter(table, c);
  for (const ClientRules& c : fw.clients) {
    for (const nft::Chain& ch : c.chains) batch.AddChain(table, ch);
    for (const nft::SetContents& s : c.sets) {
      batch.AddSet(table, s.set);
      if (!s.elements.empty()) batch.AddElements(table, s.set, s.elements);
    }
    for (const nft::CounterObject& k : c.counters) batch.AddCounter(table, k);
  }
  for (const nft::Rule& r : fw.rules) batch.AddRule(table, r);
  for (const ClientRules& c : fw.clients) {
    for (const nft::Rule& r : c.rules) batch.AddRule(table, r);
    for (const SetEntries& m : c.map_entries) {
      batch.AddElements(table, shared_sets.at(m.set), m.elements);
    }
  }
  ASSERT_TRUE(batch.status().ok()) << batch.status().error().message();
  EXPECT_GT(batch.Encode().size(), 0u);
}

TEST(Compiler, ExpiringDropHoldsUntilExpiryThenFallsThrough) {
  auto fw =
      Compile({MakeClient("w", 12, {"drop dst4=203.0.113.7 expire=+60", "accept"})}, {}, kNow);
  ASSERT_TRUE(fw.has_value());
  Evaluator eval(*fw);
  Packet p = From(12, "203.0.113.7", 6, 22);
  EXPECT_EQ(eval.Run(At(p, 59)), Outcome::kRejectTcpReset);
  EXPECT_EQ(eval.Run(At(p, 60)), Outcome::kAccept);  // from its expiry on, the next rule
  EXPECT_EQ(eval.Run(At(p, 62)), Outcome::kAccept);
}

TEST(Compiler, SpoofedSourceFromClientInterfaceIsDropped) {
  Evaluator eval(CompileSample());
  Packet p = From(12, "198.51.100.1", 6, 80);
  p.saddr = Ip("10.137.0.99");
  EXPECT_EQ(eval.Run(p), Outcome::kDrop);
  p.iifname = "eth0";  // from the uplink: not the firewall's business
  EXPECT_EQ(eval.Run(p), Outcome::kNoVerdict);
}

// A packet from the uplink that carries a client's address (spoofed
// upstream) must not be allowed by that client's rules: only the client's
// own vif leads to its chains. "anon" (13) has the default accept.
TEST(Compiler, ClientAddressArrivingFromTheUplinkReachesNoClientChain) {
  Evaluator eval(CompileSample());
  for (const char* from : {"10.137.0.13", "fd09:24ef:4179::a89:d"}) {
    Packet p = From(13, "203.0.113.10", 6, 80);
    p.saddr = Ip(from);
    if (!p.saddr.is_v4()) p.daddr = Ip("2001:db8:2::10");
    EXPECT_EQ(eval.Run(p), Outcome::kAccept) << from;  // from its own vif: its list applies
    p.iifname = "eth0";
    EXPECT_EQ(eval.Run(p), Outcome::kNoVerdict) << from;  // the base chain's final drop
    p.iifname = "vif12.0";                                // another client's vif: a spoof
    EXPECT_EQ(eval.Run(p), Outcome::kDrop) << from;
  }
}

// Property: an expiring rule matches exactly the nanoseconds before its
// expiry (the kernel's clock; no rounding), for many expiries.
TEST(ExpiryTest, MatchesExactlyBeforeTheExpiry) {
  for (int64_t expire :
       {int64_t{1}, int64_t{1700000000}, int64_t{1700000601}, int64_t{4102444800}}) {
    for (bool drop : {false, true}) {
      std::string rule = fmt::format("{} dst4=1.2.3.4 expire={}", drop ? "drop" : "accept", expire);
      auto fw = Compile({MakeClient("w", 12, {rule, drop ? "accept" : "drop"})}, {}, 0);
      ASSERT_TRUE(fw.has_value());
      Evaluator eval(*fw);
      const uint64_t end = uint64_t(expire) * 1'000'000'000;
      Outcome rule_verdict = drop ? Outcome::kRejectIcmp : Outcome::kAccept;
      Outcome fallback = drop ? Outcome::kAccept : Outcome::kRejectIcmp;
      for (int64_t delta : {-int64_t{1} << 40, int64_t{-1000000000}, int64_t(-1), int64_t(0),
                            int64_t(1), int64_t{1} << 40}) {
        Packet p = From(12, "1.2.3.4", 17, 9);
        if (delta < 0 && end < static_cast<uint64_t>(-delta)) continue;
        p.time_ns = end + static_cast<uint64_t>(delta);
        EXPECT_EQ(eval.Run(p), p.time_ns < end ? rule_verdict : fallback)
            << rule << " delta " << delta;
      }
    }
  }
}

// One nft rule per expiring rule, its clock tests inline (no chain of its
// own, no table of time ranges), one clock load per comparison as nft
// itself writes `meta time >= A meta time < B`: an accept compares twice.
TEST(ExpiryTest, IsOneRuleWithTheClockTestInline) {
  auto fw =
      Compile({MakeClient("w", 12, {"accept dst4=1.2.3.4 expire=+600", "drop"}, false)}, {}, kNow);
  ASSERT_TRUE(fw.has_value());
  ASSERT_EQ(fw->clients[0].chains.size(), 1u);
  ASSERT_EQ(fw->clients[0].rules.size(), 3u);  // the rule, "drop", the default drop
  size_t clock_loads = 0;
  for (const nft::Expr& e : fw->clients[0].rules[0].exprs)
    if (const auto* m = std::get_if<nft::Meta>(&e)) clock_loads += m->key == NFT_META_TIME_NS;
  EXPECT_EQ(clock_loads, 2u);
}

// An accept stops at its expiry and never matches before its compile time
// (a clock set back must not open it again); a drop holds at any earlier time.
TEST(ExpiryTest, AcceptMatchesOnlyFromCompileTimeDropAtAnyEarlierTime) {
  const int64_t expire = kNow + 600;
  for (bool drop : {false, true}) {
    std::string rule = fmt::format("{} dst4=1.2.3.4 expire={}", drop ? "drop" : "accept", expire);
    auto fw = Compile({MakeClient("w", 12, {rule, drop ? "accept" : "drop"})}, {}, kNow);
    ASSERT_TRUE(fw.has_value());
    Evaluator eval(*fw);
    Outcome rule_verdict = drop ? Outcome::kRejectIcmp : Outcome::kAccept;
    Outcome fallback = drop ? Outcome::kAccept : Outcome::kRejectIcmp;
    Packet p = From(12, "1.2.3.4", 17, 9);
    p.time_ns = kNowNs - 3600'000'000'000;  // an hour before the compile: clock set back
    EXPECT_EQ(eval.Run(p), drop ? rule_verdict : fallback) << rule;
    p.time_ns = kNowNs;
    EXPECT_EQ(eval.Run(p), rule_verdict) << rule;
    p.time_ns = uint64_t(expire) * 1'000'000'000 - 1;
    EXPECT_EQ(eval.Run(p), rule_verdict) << rule;
    p.time_ns = uint64_t(expire) * 1'000'000'000;
    EXPECT_EQ(eval.Run(p), fallback) << rule;
  }
}

TEST(Compiler, DispatchCostDoesNotGrowWithClients) {
  std::vector<Client> many;
  for (uint32_t id = 1; id <= 200; ++id) {
    Client c = MakeClient(fmt::format("q{}", id), id, {"accept 10.0.0.1", "drop"});
    c.ipv4 = IpAddr::V4(10, 137, static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id & 0xff));
    many.push_back(c);
  }
  auto fw = Compile(many, {}, kNow);
  ASSERT_TRUE(fw.has_value());
  size_t forward_rules = 0;
  for (const nft::Rule& r : fw->rules) forward_rules += r.chain == kForwardChain;
  EXPECT_EQ(forward_rules, 3u);
  EXPECT_EQ(fw->clients.size(), 200u);
}

TEST(Compiler, PartialUpdateEqualsThatClientInFullCompile) {
  CompiledFirewall full = CompileSample();
  std::vector<Client> clients = SampleClients();
  auto one = CompileClient(clients[0], SampleNames(), kNow);
  ASSERT_TRUE(one.has_value());
  CompiledFirewall only_one = CompileShared();
  only_one.clients = {*one};
  CompiledFirewall first_of_full = full;
  first_of_full.clients.resize(1);
  EXPECT_EQ(Render(only_one), Render(first_of_full));
  // Everything the client owns is named after it; nothing shared is.
  for (const nft::Chain& c : one->chains) EXPECT_TRUE(c.name.starts_with("fw-12")) << c.name;
  for (const nft::Rule& r : one->rules) EXPECT_TRUE(r.chain.starts_with("fw-12")) << r.chain;
  for (const auto& s : one->sets) EXPECT_TRUE(s.set.name.starts_with("fw-12-")) << s.set.name;
}

TEST(Compiler, HostnameSetsTimeOutOnlyForAccept) {
  Resolutions names = SampleNames();
  names["bad.lab"] = Resolution{true, {{Ip("203.0.113.66"), std::chrono::seconds(5)}}, ""};
  auto c = CompileClient(MakeClient("w", 12, {"accept dsthost=web.lab", "drop dsthost=bad.lab"}),
                         names, kNow);
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->sets.size(), 4u);
  for (const auto& s : c->sets) {
    bool accept = s.set.name.starts_with("fw-12-a0-");
    EXPECT_EQ(s.set.timeout, accept) << s.set.name;
    for (const nft::SetElement& e : s.elements) EXPECT_EQ(e.timeout.has_value(), accept);
  }
  // TTL 30 s -> refresh at 60 s (the floor), element lives 90 s.
  EXPECT_EQ(c->sets[0].elements.at(0).timeout, std::chrono::milliseconds(90000));
  EXPECT_EQ(ElementTimeout(std::chrono::seconds(7200)), std::chrono::seconds(3630));
}

TEST(Compiler, UnresolvedNamesAreReportedAndNeverOpen) {
  auto c = CompileClient(
      MakeClient("w", 12, {"accept dsthost=gone.lab", "drop dsthost=missing.lab", "accept"}),
      SampleNames(), kNow);
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->notes.size(), 2u);
  EXPECT_EQ(c->notes[0],
            "rule 0 (action=accept dsthost=gone.lab): gone.lab did not resolve (not resolved): "
            "the rule matches nothing");
  EXPECT_EQ(c->notes[1],
            "rule 1 (action=drop dsthost=missing.lab): missing.lab did not resolve (NXDOMAIN): "
            "this rule and all after it replaced by drop");
  for (const nft::Rule& r : c->rules) EXPECT_NE(r.comment, "rule 2");
}

TEST(Compiler, DropAllKeepsDispatchAndDropsEverything) {
  auto c = CompileDropAll(MakeClient("w", 12, {"accept"}));
  ASSERT_TRUE(c.has_value());
  CompiledFirewall fw = CompileShared();
  fw.clients = {*c};
  Evaluator eval(fw);
  EXPECT_EQ(eval.Run(From(12, "198.51.100.1", 6, 80)), Outcome::kRejectTcpReset);
  EXPECT_EQ(eval.Run(From(12, "2001:db8::1", 17, 80)), Outcome::kRejectIcmp);
}

TEST(Compiler, RefusesMalformedOrClashingClients) {
  Client bad_vif = MakeClient("w", 12, {});
  bad_vif.vif = "a/b";
  auto r1 = Compile({bad_vif}, {}, kNow);
  ASSERT_FALSE(r1.has_value());
  EXPECT_TRUE(r1.error().message().starts_with("firewall client w (id 12): "))
      << r1.error().message();

  Client v6_as_v4 = MakeClient("w", 12, {});
  v6_as_v4.ipv4 = Ip("fd00::1");
  EXPECT_FALSE(Compile({v6_as_v4}, {}, kNow).has_value());

  Client a = MakeClient("a", 12, {});
  Client b = MakeClient("b", 13, {});
  b.ipv4 = a.ipv4;
  auto r2 = Compile({a, b}, {}, kNow);
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().message(),
            "firewall client b (id 13): address 10.137.0.12 used by another client");

  Client zero = MakeClient("z", 12, {});
  zero.id = 0;
  EXPECT_FALSE(Compile({zero}, {}, kNow).has_value());
}

TEST(Stale, ListsObjectsTheNewCompileNoLongerHas) {
  Resolutions names = SampleNames();
  auto before = CompileClient(
      MakeClient("w", 12, {"accept dsthost=web.lab", "accept expire=+60", "drop"}), names, kNow);
  Client moved = MakeClient("w", 12, {"drop"}, /*v6=*/false);
  moved.ipv4 = Ip("10.137.0.99");
  auto after = CompileClient(moved, names, kNow);
  ASSERT_TRUE(before.has_value() && after.has_value());
  StaleObjects stale = Stale(*before, *after);
  EXPECT_EQ(stale.chains, std::vector<std::string>{"fw-12-6"});
  EXPECT_EQ(stale.sets, (std::vector<std::string>{"fw-12-a0-4", "fw-12-a0-6"}));
  EXPECT_TRUE(stale.counters.empty());
  ASSERT_EQ(stale.map_entries.size(), 2u);  // the old IPv4 entry, the IPv6 one
  EXPECT_EQ(stale.map_entries[0].set, kSrc4Map);
  EXPECT_EQ(stale.map_entries[1].set, kSrc6Map);
  EXPECT_EQ(stale.map_entries[0].elements[0].key,
            nft::ConcatKey({nft::IfnameKey("vif12.0"), nft::AddrKey(IpAddr::V4(10, 137, 0, 12))}));
}

// The kernel cannot change a set's flags: a hostname rule of the other
// action taking the same number must not reuse the old set's name.
TEST(Stale, HostnameRuleChangingActionAtTheSameNumberGetsANewSet) {
  Resolutions names = SampleNames();
  auto accept = CompileClient(MakeClient("w", 12, {"accept dsthost=web.lab"}), names, kNow);
  auto drop = CompileClient(MakeClient("w", 12, {"drop dsthost=web.lab", "accept"}), names, kNow);
  ASSERT_TRUE(accept.has_value() && drop.has_value());
  for (const nft::SetContents& a : accept->sets)
    for (const nft::SetContents& d : drop->sets) EXPECT_NE(a.set.name, d.set.name);
  EXPECT_EQ(Stale(*accept, *drop).sets, (std::vector<std::string>{"fw-12-a0-4", "fw-12-a0-6"}));
}

}  // namespace
}  // namespace qnet::firewall
