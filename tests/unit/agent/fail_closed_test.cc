// The fail-closed ladder with the kernel's refusals scripted: a refused
// client list puts the client in drop-all with the error kept; a refused
// drop-all leaves the old list, and the reply says so; a refused netvm
// config is an error that opens nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <nlohmann/json.hpp>

#include "capability_host.h"
#include "capability_table.h"
#include "qnet/firewall/agent_section.h"
#include "qnet/firewall/rule_parser.h"

namespace qnet::agent {
namespace {

constexpr const char* kRefusal = "nft: NEWRULE seq 7 (chain fw-3): Operation not permitted";

// The kernel, scripted: each Commit takes the next answer (true: applied);
// once the script is empty every commit applies. Records what it applied.
class ScriptedKernel final : public nft::Committer {
 public:
  std::deque<bool> script;
  std::vector<std::vector<std::string>> applied;  // each applied batch's ops
  int commits = 0;

  Status Commit(const nft::Batch& batch) override {
    ++commits;
    const bool ok = script.empty() || script.front();
    if (!script.empty()) script.pop_front();
    if (!ok) return Fail(Errc::kPermissionDenied, kRefusal);
    std::vector<std::string> ops;
    for (const nft::Op& op : batch.ops()) ops.push_back(nft::OpDescription(op));
    applied.push_back(std::move(ops));
    return OkStatus();
  }
};

class FixedClock final : public Clock {
 public:
  int64_t UnixNow() const override { return 1700000000; }
  std::chrono::steady_clock::time_point SteadyNow() const override { return {}; }
};

bool Any(const std::vector<std::string>& ops, const std::string& needle) {
  return std::any_of(ops.begin(), ops.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

class FailClosed : public ::testing::Test {
 protected:
  FailClosed()
      : host_(kernel_, CapabilitiesFor(qube::Role::kFirewall,
                                       {.qube = "sys-firewall",
                                        .nft = kernel_,
                                        .resolve = [](const std::string&,
                                                      bool) { return firewall::Resolution{}; },
                                        .clock = clock_})) {
    for (qrexec::ServiceEntry& e : host_.Services()) services_[e.name] = std::move(e.handler);
  }

  static qube::AgentConfig Config() {
    qube::AgentConfig c;
    c.qube = "sys-firewall";
    c.role = qube::Role::kFirewall;
    c.addr4 = *IpAddr::Parse("10.137.0.2");
    c.uplink = qube::Uplink{.ifname = "eth0",
                            .addr4 = *IpPrefix::Parse("10.137.0.2/32"),
                            .gateway4 = *IpAddr::Parse("10.137.0.1")};
    c.clients = {{.name = "work", .id = 3, .vif = "vif3.0", .addr4 = *IpAddr::Parse("10.137.0.3")},
                 {.name = "p", .id = 4, .vif = "vif4.0", .addr4 = *IpAddr::Parse("10.137.0.4")}};
    const std::vector<std::string> work = {"accept dst4=203.0.113.10 proto=tcp dstports=80",
                                           "drop"};
    c.sections["firewall"] =
        firewall::ClientListsToJson({{"work", *firewall::RuleList::Parse(work, 0)}});
    return c;
  }

  qrexec::ServiceReply Call(const std::string& service, const std::string& input) {
    qrexec::ServiceRequest req{.service = service, .input = input};
    return services_.at(service)(req);
  }
  qrexec::ServiceReply SetWork(std::vector<std::string> rules) {
    firewall::FirewallUpdate u{.client = "work",
                               .rules = *firewall::RuleList::Parse(rules, clock_.UnixNow())};
    return Call("qnet.Firewall", firewall::ToJson(u));
  }
  nlohmann::json WorkState() {
    return nlohmann::json::parse(Call("qnet.FirewallState", "work").out);
  }

  ScriptedKernel kernel_;
  FixedClock clock_;
  CapabilityHost host_;
  std::map<std::string, qrexec::ServiceHandler> services_;
};

TEST_F(FailClosed, ConfiguredWhenTheKernelTakesEverythingInOneTransaction) {
  ASSERT_TRUE(host_.Install(Config()));
  ASSERT_EQ(kernel_.applied.size(), 1u);
  EXPECT_TRUE(Any(kernel_.applied[0], "netvm-forward"));
  EXPECT_TRUE(Any(kernel_.applied[0], "fw-3"));
  EXPECT_TRUE(Any(kernel_.applied[0], "fw-4"));
  // work's rules themselves (each rule carries the comment "rule N").
  EXPECT_TRUE(Any(kernel_.applied[0], "chain fw-3, comment \"rule 0\""));
  EXPECT_TRUE(WorkState()["error"].is_null());
}

TEST_F(FailClosed, KernelRefusesAClientsList_ClientInDropAllWithTheErrorKept) {
  ASSERT_TRUE(host_.Install(Config()));
  kernel_.script = {false, true};  // the new list refused, its drop-all applied
  const qrexec::ServiceReply r = SetWork({"accept dst4=203.0.113.20", "drop"});
  EXPECT_EQ(r.exit_code, static_cast<int>(qube::AgentReply::kDropAll));
  EXPECT_NE(r.err.find("work is in drop-all"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(kRefusal), std::string::npos) << r.err;
  // What the kernel applied: work's chain holds only its final drop; p is untouched.
  ASSERT_EQ(kernel_.applied.size(), 2u);
  const auto& drop_all = kernel_.applied[1];
  EXPECT_TRUE(Any(drop_all, "chain fw-3, comment \"default drop\"")) << drop_all.size();
  EXPECT_FALSE(Any(drop_all, "fw-4"));
  EXPECT_FALSE(Any(drop_all, "comment \"rule"));  // none of work's rules
  EXPECT_EQ(WorkState()["error"], kRefusal);
  // Positive control: the kernel takes the next try, and the error goes.
  const qrexec::ServiceReply again = SetWork({"accept dst4=203.0.113.20", "drop"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(WorkState()["error"].is_null());
}

TEST_F(FailClosed, KernelRefusesTheDropAllToo_OldListHoldsAndTheReplySaysSo) {
  ASSERT_TRUE(host_.Install(Config()));
  kernel_.script = {false, false};
  const qrexec::ServiceReply r = SetWork({"accept"});
  EXPECT_EQ(r.exit_code, static_cast<int>(qube::AgentReply::kFailed));
  EXPECT_NE(r.err.find("work keeps its previous rules: drop-all refused too"), std::string::npos)
      << r.err;
  EXPECT_EQ(kernel_.applied.size(), 1u);  // nothing but the first install
  const std::string error = WorkState()["error"];
  EXPECT_NE(error.find("drop-all refused too"), std::string::npos) << error;
  // The list in force is still the old one: the saved section says so.
  qube::AgentConfig saved = Config();
  host_.UpdateSections(saved);
  EXPECT_EQ(saved.sections["firewall"], Config().sections["firewall"]);
}

TEST_F(FailClosed, KernelRefusesTheNetvmsOwnRules_ErrorAndNothingOpened) {
  kernel_.script = {false, false};  // the full transaction, then the closed one
  const Status s = host_.Install(Config());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find(kRefusal), std::string::npos) << s.error().message();
  EXPECT_EQ(kernel_.commits, 2);
  EXPECT_TRUE(kernel_.applied.empty());  // the lockdown table stays as it was
}

TEST_F(FailClosed, FullInstallRefused_ClientsInDropAllThenEachOnItsOwn) {
  kernel_.script = {false, true, false, true, true};  // full; closed; work; work's drop-all; p
  ASSERT_TRUE(host_.Install(Config()));
  ASSERT_EQ(kernel_.applied.size(), 3u);
  // The closed transaction: the netvm's rules, every client in drop-all.
  const auto& closed = kernel_.applied[0];
  EXPECT_TRUE(Any(closed, "netvm-forward"));
  EXPECT_TRUE(Any(closed, "chain fw-3, comment \"default drop\""));
  EXPECT_TRUE(Any(closed, "chain fw-4, comment \"default drop\""));
  EXPECT_FALSE(Any(closed, "comment \"rule"));  // no client's rules
  // work's list was refused again: it stays in drop-all; p got its list.
  EXPECT_EQ(WorkState()["error"], kRefusal);
  EXPECT_TRUE(nlohmann::json::parse(Call("qnet.FirewallState", "p").out)["error"].is_null());
}

}  // namespace
}  // namespace qnet::agent
