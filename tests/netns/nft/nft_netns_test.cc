// nft against the real kernel. Each test gets a fresh network namespace,
// made by a helper thread with unshare(CLONE_NEWNET) and held only by an fd:
// closing the fd (fixture teardown, or process exit on a crash) removes the
// namespace with its rules and interfaces. Nothing touches the root
// namespace; packets go only to addresses inside the test's namespace.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <thread>

#include "qnet/base/fd.h"
#include "qnet/base/process.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/lockdown_check.h"
#include "qnet/nft/match.h"
#include "qnet/nft/readback.h"
#include "qnet/nft/transaction.h"

namespace qnet::nft {

// gtest finds these by ADL, so they live in the types' namespace.
inline void PrintTo(const Expr& e, std::ostream* os) { *os << ToString(e); }
inline void PrintTo(const Rule& r, std::ostream* os) { *os << ToString(r); }

namespace {

// A new network namespace owned by the returned fd. The calling thread's
// namespace does not change: a short-lived thread unshares and opens it.
Result<UniqueFd> NewNetns() {
  Result<UniqueFd> out = Fail(Errc::kInternal, "unset");
  std::thread t([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      out = Fail(ErrnoError("unshare(CLONE_NEWNET)", errno));
      return;
    }
    out = OpenFd("/proc/thread-self/ns/net", O_RDONLY);
  });
  t.join();
  return out;
}

class NftNetns : public testing::Test {
 protected:
  void SetUp() override {
    if (getuid() != 0) GTEST_SKIP() << "needs root: creates network namespaces and nftables";
    Result<UniqueFd> ns = NewNetns();
    ASSERT_TRUE(ns.has_value()) << ns.error().message();
    netns_ = std::move(*ns);
    Result<netlink::Socket> s = netlink::Socket::OpenInNetns(NETLINK_NETFILTER, netns_.get());
    ASSERT_TRUE(s.has_value()) << s.error().message();
    sock_.emplace(std::move(*s));
  }

  void CommitOk(const Batch& b) {
    Status s = Commit(*sock_, b);
    ASSERT_TRUE(s.ok()) << s.error().message();
  }

  TableState Read() {
    Result<TableState> st = ReadTable(*sock_, Family::kInet, kQnetTableName);
    EXPECT_TRUE(st.has_value()) << st.error().message();
    return st ? *st : TableState{};
  }

  // Runs fn with this thread inside the test's namespace (children it
  // spawns start there too).
  void InNetns(const std::function<Status()>& fn) {
    Status s = netlink::RunInNetns(netns_.get(), fn);
    ASSERT_TRUE(s.ok()) << s.error().message();
  }

  UniqueFd netns_;
  std::optional<netlink::Socket> sock_;
};

std::vector<Rule> RulesOnly(const ChainState& c) {
  std::vector<Rule> out;
  for (const RuleState& r : c.rules) out.push_back(r.rule);
  return out;
}

std::vector<uint64_t> Handles(const ChainState& c) {
  std::vector<uint64_t> out;
  for (const RuleState& r : c.rules) out.push_back(r.handle);
  return out;
}

// Chains with their handles and their rules with theirs, sets and counters
// by name and handle: what must not change when a transaction fails.
void ExpectSameTable(const TableState& a, const TableState& b) {
  ASSERT_EQ(a.chains.size(), b.chains.size());
  for (size_t i = 0; i < a.chains.size(); ++i) {
    EXPECT_EQ(a.chains[i].chain, b.chains[i].chain);
    EXPECT_EQ(a.chains[i].handle, b.chains[i].handle) << a.chains[i].chain.name;
    EXPECT_EQ(RulesOnly(a.chains[i]), RulesOnly(b.chains[i])) << a.chains[i].chain.name;
    EXPECT_EQ(Handles(a.chains[i]), Handles(b.chains[i])) << a.chains[i].chain.name;
  }
  ASSERT_EQ(a.counters.size(), b.counters.size());
  for (size_t i = 0; i < a.counters.size(); ++i) {
    EXPECT_EQ(a.counters[i].name, b.counters[i].name);
    EXPECT_EQ(a.counters[i].handle, b.counters[i].handle);
  }
  ASSERT_EQ(a.sets.size(), b.sets.size());
  for (size_t i = 0; i < a.sets.size(); ++i) {
    EXPECT_EQ(a.sets[i].set, b.sets[i].set);
    EXPECT_EQ(a.sets[i].elements, b.sets[i].elements);
  }
}

TEST_F(NftNetns, Lockdown_CommitsReadsBackAndVerifies) {
  Result<bool> before = TableExists(*sock_, Family::kInet, kQnetTableName);
  ASSERT_TRUE(before.has_value()) << before.error().message();
  EXPECT_FALSE(*before);
  Result<TableState> missing = ReadTable(*sock_, Family::kInet, kQnetTableName);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);

  CommitOk(LockdownBatch());
  EXPECT_TRUE(TableExists(*sock_, Family::kInet, kQnetTableName).value_or(false));
  TableState st = Read();
  Status v = VerifyLockdown(st);
  EXPECT_TRUE(v.ok()) << v.error().message();
  ASSERT_EQ(st.chains.size(), 5u);
  for (const Chain& c : BaseChains()) {
    const ChainState* got = st.FindChain(c.name);
    ASSERT_NE(got, nullptr) << c.name;
    EXPECT_EQ(got->chain, c);
    EXPECT_EQ(RulesOnly(*got), BaseChainRules(c, {})) << c.name;
  }
  for (const char* n : {"drop-input", "drop-forward", "drop-output"})
    EXPECT_NE(st.FindCounter(n), nullptr) << n;
}

TEST_F(NftNetns, Lockdown_RerunResetsBaseChainsWithoutDuplicates) {
  CommitOk(LockdownBatch());
  CommitOk(InstallCapabilitiesBatch({"netvm"}));
  CommitOk(LockdownBatch());
  TableState st = Read();
  EXPECT_TRUE(VerifyLockdown(st).ok());
  for (const Chain& c : BaseChains())
    EXPECT_EQ(RulesOnly(*st.FindChain(c.name)), BaseChainRules(c, {})) << c.name;
  EXPECT_EQ(st.counters.size(), 3u);
}

TEST_F(NftNetns, ReplaceChain200Times_LeavesOneCopyAndBaseChainsUntouched) {
  CommitOk(LockdownBatch());
  CommitOk(InstallCapabilitiesBatch({"netvm", "firewall"}));
  const TableState before = Read();

  const Set clients{.name = "clients", .key = {DataType::kIpv4Addr}};
  const Set fw_map{.name = "fw-v4", .key = {DataType::kIpv4Addr}, .data = DataType::kVerdict};
  std::map<std::string, std::vector<Rule>> chains;
  std::vector<SetContents> sets;
  for (int round = 0; round < 200; ++round) {
    const IpAddr client = IpAddr::V4(10, 137, 0, static_cast<uint8_t>(2 + round % 200));
    chains = {
        {"fw-client",
         {Rule{"", Concat(TcpDport(443), Accept()), "https"},
          Rule{"", Concat(UdpDport(static_cast<uint16_t>(1000 + round)), Accept())},
          Rule{"", RejectAdminProhibited()}}},
        {"firewall-forward",
         {Rule{"", Concat(CtStateIn(kCtEstablished | kCtRelated), Accept())},
          Rule{"", Concat(IifNamePrefix("vif"), OifNamePrefix("vif"), Drop())},
          Rule{"", Concat(Ip4SaddrIn("clients", true), Drop())}, Rule{"", VmapIp4Saddr("fw-v4")}}},
    };
    sets = {SetContents{clients, {{.key = AddrKey(client)}}},
            SetContents{
                fw_map,
                {{.key = AddrKey(client), .verdict = Verdict{VerdictCode::kJump, "fw-client"}}}}};
    Status s = Commit(*sock_, ReplaceChainsBatch(chains, sets));
    ASSERT_TRUE(s.ok()) << "round " << round << ": " << s.error().message();
  }

  const TableState after = Read();
  for (const auto& [name, rules] : chains) {
    const ChainState* c = after.FindChain(name);
    ASSERT_NE(c, nullptr) << name;
    std::vector<Rule> want = rules;
    for (Rule& r : want) r.chain = name;
    EXPECT_EQ(RulesOnly(*c), want) << name;
  }
  for (const SetContents& sc : sets) {
    const SetState* s = after.FindSet(sc.set.name);
    ASSERT_NE(s, nullptr) << sc.set.name;
    EXPECT_EQ(s->set, sc.set);
    EXPECT_EQ(s->elements, sc.elements) << sc.set.name;
  }
  // Base chains: same chains, same handles, same rules with the same handles.
  for (const Chain& c : BaseChains()) {
    const ChainState* b = before.FindChain(c.name);
    const ChainState* a = after.FindChain(c.name);
    ASSERT_TRUE(a && b) << c.name;
    EXPECT_EQ(a->handle, b->handle) << c.name;
    EXPECT_EQ(RulesOnly(*a), RulesOnly(*b)) << c.name;
    EXPECT_EQ(Handles(*a), Handles(*b)) << c.name;
  }
  for (const CounterState& c : before.counters) {
    const CounterState* a = after.FindCounter(c.name);
    ASSERT_NE(a, nullptr) << c.name;
    EXPECT_EQ(a->handle, c.handle) << c.name;
  }
  EXPECT_TRUE(VerifyLockdown(after).ok());
}

std::vector<SetElement> SortedByKey(std::vector<SetElement> v) {
  std::sort(v.begin(), v.end(),
            [](const SetElement& a, const SetElement& b) { return a.key < b.key; });
  return v;
}

TEST_F(NftNetns, Sets_ReadBackEqualToWhatWasWritten) {
  CommitOk(LockdownBatch());
  CommitOk(InstallCapabilitiesBatch({"netvm"}));
  const Set nets{.name = "nets", .key = {DataType::kIpv4Addr}, .interval = true};
  const Set ranges{.name = "ranges",
                   .key = {DataType::kIfname, DataType::kIpv4Addr, DataType::kInetService},
                   .interval = true};
  const Set timed{.name = "timed",
                  .key = {DataType::kIpv6Addr},
                  .timeout = true,
                  .default_timeout = std::chrono::milliseconds(60000)};
  const Set vmap{.name = "vmap", .key = {DataType::kIpv4Addr}, .data = DataType::kVerdict};
  const Set dnat{.name = "dnat", .key = {DataType::kInetService}, .data = DataType::kIpv4Addr};
  const std::vector<SetContents> sets = {
      {nets,
       {{.key = {10, 0, 0, 0}, .key_end = Bytes{10, 255, 255, 255}},
        {.key = {192, 168, 1, 7}},
        {.key = {0, 0, 0, 0}, .key_end = Bytes{0, 255, 255, 255}}}},
      {ranges,
       {{.key = ConcatKey({IfnameKey("eth0"), {10, 0, 0, 0}, PortKey(53)}),
         .key_end = ConcatKey({IfnameKey("eth0"), {10, 0, 0, 255}, PortKey(53)})},
        {.key = ConcatKey({IfnameKey("vif3.0"), {10, 137, 0, 3}, PortKey(80)})}}},
      {timed,
       {{.key = AddrKey(*IpAddr::Parse("fd00::1")), .timeout = std::chrono::milliseconds(30000)},
        {.key = AddrKey(*IpAddr::Parse("fd00::2"))}}},
      {vmap,
       {{.key = {10, 137, 0, 12}, .verdict = Verdict{VerdictCode::kJump, "netvm-forward"}},
        {.key = {10, 137, 0, 13}, .verdict = Verdict{VerdictCode::kDrop, ""}}}},
      {dnat, {{.key = PortKey(53), .data = Bytes{10, 139, 1, 1}}}},
  };
  CommitOk(ReplaceChainsBatch(
      {{"netvm-input",
        {Rule{"", Concat(Ip4SaddrIn("nets"), Accept())}, Rule{"", VmapIp4Saddr("vmap")}}}},
      sets));
  const TableState st = Read();
  for (const SetContents& sc : sets) {
    const SetState* got = st.FindSet(sc.set.name);
    ASSERT_NE(got, nullptr) << sc.set.name;
    EXPECT_EQ(got->set, sc.set);
    EXPECT_EQ(SortedByKey(got->elements), SortedByKey(sc.elements)) << sc.set.name;
  }
}

TEST_F(NftNetns, InstallCapabilitiesAgain_KeepsCapabilityChainContents) {
  CommitOk(LockdownBatch());
  CommitOk(InstallCapabilitiesBatch({"vpn"}));
  CommitOk(ReplaceChainsBatch({{"vpn-output", {Rule{"", Concat(OifName("wg0"), Accept())}}}}));
  const TableState before = Read();
  CommitOk(InstallCapabilitiesBatch({"vpn", "app"}));
  const TableState after = Read();
  EXPECT_EQ(Handles(*after.FindChain("vpn-output")), Handles(*before.FindChain("vpn-output")));
  EXPECT_EQ(after.FindChain("input")->handle, before.FindChain("input")->handle);
  EXPECT_EQ(RulesOnly(*after.FindChain("output")), BaseChainRules(BaseChains()[2], {"vpn", "app"}));
}

TEST_F(NftNetns, BadRule_FailsNamingTheMessageAndChangesNothing) {
  CommitOk(LockdownBatch());
  CommitOk(InstallCapabilitiesBatch({"netvm", "firewall"}));
  CommitOk(ReplaceChainsBatch({{"firewall-forward", {Rule{"", Accept()}}}}));
  const TableState before = Read();

  Batch bad = ReplaceChainsBatch({{"firewall-forward", {Rule{"", Drop()}}},
                                  {"netvm-input", {Rule{"", Jump("no-such-chain")}}}});
  ASSERT_TRUE(bad.status().ok());
  Status s = Commit(*sock_, bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kNetlink);
  EXPECT_EQ(s.error().sys_errno(), ENOENT);
  EXPECT_EQ(s.error().message(),
            "nft: NEWRULE seq 6 (chain netvm-input): No such file or directory");

  ExpectSameTable(Read(), before);
  // The socket is clean for the next transaction.
  CommitOk(ReplaceChainsBatch({{"firewall-forward", {Rule{"", Drop()}}}}));
  EXPECT_EQ(RulesOnly(*Read().FindChain("firewall-forward")),
            (std::vector<Rule>{Rule{"firewall-forward", Drop()}}));
}

// Only the last message asks for an ACK: refusals in the middle of the
// batch, and more than one, still come back, the first one is named, and
// nothing is left queued for the next transaction.
TEST_F(NftNetns, RefusalsMidBatch_TheFirstIsNamedAndTheLastMessageStillAnswers) {
  CommitOk(LockdownBatch());
  CommitOk(InstallCapabilitiesBatch({"netvm", "firewall"}));
  const TableState before = Read();
  Batch bad = ReplaceChainsBatch(
      {{"firewall-forward", {Rule{"", Accept()}, Rule{"", Jump("no-such-chain-1")}}},
       {"netvm-input", {Rule{"", Jump("no-such-chain-2")}, Rule{"", Accept()}}},
       {"zz-last", {Rule{"", Accept()}, Rule{"", Drop()}}}});
  ASSERT_TRUE(bad.status().ok());
  Status s = Commit(*sock_, bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().sys_errno(), ENOENT);
  EXPECT_NE(s.error().message().find("NEWRULE"), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("(chain firewall-forward)"), std::string::npos)
      << s.error().message();
  ExpectSameTable(Read(), before);
  CommitOk(ReplaceChainsBatch({{"firewall-forward", {Rule{"", Drop()}}}}));
  EXPECT_EQ(RulesOnly(*Read().FindChain("firewall-forward")),
            (std::vector<Rule>{Rule{"firewall-forward", Drop()}}));
}

TEST_F(NftNetns, InvalidBatch_IsRefusedBeforeTheKernel) {
  CommitOk(LockdownBatch());
  const TableState before = Read();
  Status s = Commit(*sock_, ReplaceChainsBatch({{"x", {Rule{"", IifName("")}}}}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(s.error().message(),
            "nft: NEWRULE seq 3 (chain x): expression 1: unsupported expression: iifname \"\": an "
            "interface name has 1 to 15 bytes");
  ExpectSameTable(Read(), before);
}

TEST_F(NftNetns, DropsCount_UdpToANeighbourHitsTheOutputDropCounter) {
  CommitOk(LockdownBatch());
  InNetns([]() -> Status {
    // A veth pair with both ends in this namespace; 10.199.0.2 is a
    // neighbour address on qnt0 that nothing holds.
    QNET_TRY(RunCapture({"ip", "link", "add", "qnt0", "type", "veth", "peer", "name", "qnt1"}));
    QNET_TRY(RunCapture({"ip", "addr", "add", "10.199.0.1/24", "dev", "qnt0"}));
    QNET_TRY(RunCapture({"ip", "link", "set", "qnt1", "up"}));
    QNET_TRY(RunCapture({"ip", "link", "set", "qnt0", "up"}));
    return OkStatus();
  });
  constexpr int kSends = 3;
  int refused = 0;
  InNetns([&]() -> Status {
    UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return Fail(ErrnoError("socket", errno));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    inet_pton(AF_INET, "10.199.0.2", &to.sin_addr);
    for (int i = 0; i < kSends; ++i) {
      if (sendto(fd.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0 &&
          errno == EPERM)
        ++refused;
    }
    return OkStatus();
  });
  EXPECT_EQ(refused, kSends) << "the output drop refuses local sends with EPERM";
  TableState st = Read();
  const CounterState* out = st.FindCounter("drop-output");
  ASSERT_NE(out, nullptr);
  EXPECT_GE(out->packets, static_cast<uint64_t>(kSends));
  EXPECT_GT(out->bytes, 0u);
  EXPECT_EQ(st.FindCounter("drop-forward")->packets, 0u);
}

TEST_F(NftNetns, LargeBatch_TenThousandRulesCommitInOneTransaction) {
  CommitOk(LockdownBatch());
  CommitOk(InstallCapabilitiesBatch({"firewall"}));
  std::vector<Rule> rules;
  for (uint32_t i = 0; i < 10000; ++i)
    rules.push_back(Rule{"", Concat(IifNamePrefix("vif"), Ip4Saddr(IpAddr::V4(0x0a890000 + i)),
                                    TcpDport(static_cast<uint16_t>(i)), Accept())});
  CommitOk(ReplaceChainsBatch({{"firewall-forward", rules}}));
  // Twice: the second flushes the 10,000 and adds them again.
  CommitOk(ReplaceChainsBatch({{"firewall-forward", rules}}));
  TableState st = Read();
  const ChainState* c = st.FindChain("firewall-forward");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->rules.size(), 10000u);
  EXPECT_EQ(c->rules[9999].rule.exprs, rules[9999].exprs);
}

}  // namespace
}  // namespace qnet::nft
