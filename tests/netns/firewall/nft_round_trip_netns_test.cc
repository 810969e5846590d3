// The firewall's tables as an auditor reads them: the sample policy of the
// golden tests (hostname rules of both actions, expiring accept and drop,
// DNS, ICMP, IPv6) committed by qnet into a network namespace, listed with
// the real `nft list ruleset`, loaded with `nft -f` into a second namespace
// and listed again. The text must be the same, and so must what the kernel
// holds (read back over netlink, expression by expression): what `nft`
// shows is loadable and means what qnet installed. Each namespace is held
// only by an fd, so it is gone when the test ends, also on failure.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>
#include <thread>

#include "qnet/base/fd.h"
#include "qnet/base/process.h"
#include "qnet/firewall/compiler.h"
#include "qnet/firewall/install_batch.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/readback.h"
#include "qnet/nft/transaction.h"
#include "sample_policy.h"

namespace qnet::firewall {
namespace {

// A new network namespace owned by the returned fd; the calling thread's
// own namespace does not change.
Result<UniqueFd> NewNetns() {
  Result<UniqueFd> out = Fail(Errc::kInternal, "unset");
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      out = Fail(ErrnoError("unshare(CLONE_NEWNET)", errno));
      return;
    }
    out = OpenFd("/proc/thread-self/ns/net", O_RDONLY);
  });
  t.join();
  return out;
}

// `nft ARGS` run inside the namespace: its stdout, or the error.
Result<std::string> Nft(int netns, std::vector<std::string> args) {
  args.insert(args.begin(), "nft");
  Result<std::string> out = Fail(Errc::kInternal, "unset");
  Status s = netlink::RunInNetns(netns, [&]() -> Status {
    out = RunCapture(args);
    return {};
  });
  if (!s.ok()) return Fail(s.error());
  return out;
}

// A set element's "expires 1m29s980ms" counts down between two listings.
std::string WithoutExpiry(const std::string& text) {
  static const std::regex kExpires(" expires [0-9hms]+");
  return std::regex_replace(text, kExpires, "");
}

class FirewallNftRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: creates network namespaces and nftables";
    if (!RunCapture({"nft", "--version"}).has_value()) GTEST_SKIP() << "needs the nft command";
    for (UniqueFd* ns : {&live_, &scratch_}) {
      Result<UniqueFd> fd = NewNetns();
      ASSERT_TRUE(fd.has_value()) << fd.error().message();
      *ns = std::move(*fd);
    }
  }

  // Commits the lockdown table, the firewall's capability chain and the
  // compiled clients into the live namespace, as the agent of a firewall
  // qube does.
  void Install(std::vector<Client> clients, int64_t now) {
    auto sock = netlink::Socket::OpenInNetns(NETLINK_NETFILTER, live_.get());
    ASSERT_TRUE(sock.has_value()) << sock.error().message();
    Result<CompiledFirewall> fw = Compile(clients, testing::SampleNames(), now);
    ASSERT_TRUE(fw.has_value()) << fw.error().message();
    for (const nft::Batch& b : {nft::LockdownBatch(), nft::InstallCapabilitiesBatch({"firewall"}),
                                FirewallInstallBatch(std::move(*fw), {})}) {
      Status s = nft::Commit(*sock, b);
      ASSERT_TRUE(s.ok()) << s.error().message();
    }
  }

  nft::TableState Read(int netns) {
    auto sock = netlink::Socket::OpenInNetns(NETLINK_NETFILTER, netns);
    EXPECT_TRUE(sock.has_value()) << sock.error().message();
    if (!sock.has_value()) return {};
    Result<nft::TableState> st = nft::ReadTable(*sock, nft::Family::kInet, nft::kQnetTableName);
    EXPECT_TRUE(st.has_value()) << st.error().message();
    return st.has_value() ? *st : nft::TableState{};
  }

  // Loads `text` into the scratch namespace with `nft -f`.
  Status Load(const std::string& text) {
    char path[] = "/tmp/qnet-fw-ruleset-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) return Fail(ErrnoError("mkstemp", errno));
    ::close(fd);
    std::ofstream(path) << text;
    Result<std::string> r = Nft(scratch_.get(), {"-f", path});
    ::unlink(path);
    if (!r.has_value()) return Fail(r.error());
    return {};
  }

  UniqueFd live_;
  UniqueFd scratch_;
};

// What the kernel holds in both namespaces, rule by rule and element by
// element (handles differ; the meaning must not).
void ExpectSameMeaning(const nft::TableState& a, const nft::TableState& b) {
  ASSERT_EQ(a.chains.size(), b.chains.size());
  for (const nft::ChainState& ca : a.chains) {
    const nft::ChainState* cb = b.FindChain(ca.chain.name);
    ASSERT_NE(cb, nullptr) << ca.chain.name;
    EXPECT_EQ(ca.chain, cb->chain);
    ASSERT_EQ(ca.rules.size(), cb->rules.size()) << ca.chain.name;
    for (size_t i = 0; i < ca.rules.size(); ++i) {
      EXPECT_EQ(nft::ToString(ca.rules[i].rule), nft::ToString(cb->rules[i].rule))
          << ca.chain.name << " rule " << i;
    }
  }
  ASSERT_EQ(a.sets.size(), b.sets.size());
  for (const nft::SetState& sa : a.sets) {
    const nft::SetState* sb = b.FindSet(sa.set.name);
    ASSERT_NE(sb, nullptr) << sa.set.name;
    EXPECT_EQ(sa.set, sb->set) << sa.set.name;
    // A hash set lists its elements in no fixed order.
    auto by_key = [](std::vector<nft::SetElement> v) {
      std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.key < y.key; });
      return v;
    };
    EXPECT_EQ(by_key(sa.elements), by_key(sb->elements)) << sa.set.name;
  }
  EXPECT_EQ(a.counters.size(), b.counters.size());
}

TEST_F(FirewallNftRoundTrip, HostnameAndExpiringRulesListAndLoadBackUnchanged) {
  const int64_t now = ::time(nullptr);
  std::vector<Client> clients = testing::SampleClients(now);
  clients.push_back(testing::DropHostClient(now));
  Install(clients, now);
  if (HasFatalFailure()) return;

  Result<std::string> listed = Nft(live_.get(), {"list", "ruleset"});
  ASSERT_TRUE(listed.has_value()) << listed.error().message();
  // Positive control: the listing holds what the check below is about.
  for (const char* want : {"ip daddr @fw-12-a0-4", "ip6 daddr @fw-12-a0-6", "ip daddr @fw-16-d0-4",
                           "ip6 daddr @fw-16-d0-6", "meta time", "ct original ip daddr"}) {
    EXPECT_NE(listed->find(want), std::string::npos) << want << " not in:\n" << *listed;
  }
  // No field that nft could only print as a raw header offset.
  EXPECT_EQ(listed->find("@nh,"), std::string::npos) << *listed;
  EXPECT_EQ(listed->find("@th,"), std::string::npos) << *listed;

  Status loaded = Load(*listed);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message() << "\n" << *listed;
  Result<std::string> again = Nft(scratch_.get(), {"list", "ruleset"});
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(WithoutExpiry(*again), WithoutExpiry(*listed));
  if (std::getenv("QNET_SHOW_RULESET") != nullptr) std::cout << *listed;
  ExpectSameMeaning(Read(live_.get()), Read(scratch_.get()));
}

}  // namespace
}  // namespace qnet::firewall
