// Pending `ask` calls (ask.h): answered both ways, and timed out.
#include "qnet/qrexec/ask.h"

#include <gtest/gtest.h>

namespace qnet::qrexec {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

PolicyDecision Ask(std::string target, std::string default_target = "") {
  PolicyDecision d;
  d.action = PolicyAction::kAsk;
  d.target = std::move(target);
  d.default_target = std::move(default_target);
  d.rule = PolicyLocation{"/p/90-default.policy", 3};
  d.user = "user";
  d.reason = "ask by /p/90-default.policy:3";
  return d;
}

TEST(QrexecAsk, AllowedWithTheProposedTargetOrAnOfferedOne) {
  AskQueue queue;
  Clock::time_point t0{};
  uint64_t a =
      queue.Add({"qubes.Filecopy", "", "work", "personal"}, Ask("personal", "vault"), t0).value();
  uint64_t b =
      queue.Add({"qubes.Filecopy", "", "work", "personal"}, Ask("personal", "vault"), t0).value();
  EXPECT_EQ(queue.List(t0).size(), 2u);
  Result<PolicyDecision> first = queue.Allow(a, std::nullopt, t0 + 1s);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_EQ(first->action, PolicyAction::kAllow);
  EXPECT_EQ(first->target, "personal");
  EXPECT_EQ(first->user, "user");
  EXPECT_EQ(first->reason, "allowed by the user (ask by /p/90-default.policy:3)");
  Result<PolicyDecision> other = queue.Allow(b, "sys-net", t0 + 1s);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().message(),
            "request 2: target sys-net was not offered (offered: personal, vault)");
  Result<PolicyDecision> second = queue.Allow(b, "vault", t0 + 1s);
  ASSERT_TRUE(second.has_value()) << second.error().message();
  EXPECT_EQ(second->target, "vault");
  EXPECT_TRUE(queue.List(t0 + 1s).empty());
  EXPECT_EQ(queue.Allow(a, std::nullopt, t0 + 2s).error().code(), Errc::kNotFound);
}

TEST(QrexecAsk, DeniedByTheUser) {
  AskQueue queue;
  Clock::time_point t0{};
  uint64_t id = queue.Add({"qubes.Gpg", "", "work", ""}, Ask(""), t0).value();
  Result<PolicyDecision> none = queue.Allow(id, std::nullopt, t0);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().message(), "request 1: no target proposed: give one");
  Result<PolicyDecision> d = queue.Deny(id, t0);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->action, PolicyAction::kDeny);
  EXPECT_EQ(d->reason, "denied by the user (ask by /p/90-default.policy:3)");
  EXPECT_EQ(queue.Deny(id, t0).error().code(), Errc::kNotFound);
}

TEST(QrexecAsk, UnansweredRequestsAreDeniedAfterTheTimeout) {
  AskQueue queue(60s);
  Clock::time_point t0{};
  uint64_t old = queue.Add({"qubes.Filecopy", "", "work", "vault"}, Ask("vault"), t0).value();
  uint64_t young =
      queue.Add({"qubes.Filecopy", "", "work", "vault"}, Ask("vault"), t0 + 30s).value();
  EXPECT_TRUE(queue.Expire(t0 + 59s).empty());  // positive control: not yet
  auto expired = queue.Expire(t0 + 60s);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].first.id, old);
  EXPECT_EQ(expired[0].second.action, PolicyAction::kDeny);
  EXPECT_EQ(expired[0].second.reason, "not answered within 60 s (ask by /p/90-default.policy:3)");
  EXPECT_EQ(queue.Allow(old, std::nullopt, t0 + 60s).error().code(), Errc::kNotFound);
  EXPECT_TRUE(queue.Allow(young, std::nullopt, t0 + 60s).has_value());
}

TEST(QrexecAsk, OnlyAskDecisionsWait) {
  AskQueue queue;
  PolicyDecision allow;
  allow.action = PolicyAction::kAllow;
  EXPECT_EQ(queue.Add({}, allow, Clock::time_point{}).error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace qnet::qrexec
