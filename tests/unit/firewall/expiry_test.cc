// qnetd's rule expiry (ExpirySchedule) at times a fake clock chooses: a
// rule leaves its list exactly at its expiry, never before; nothing else
// changes; several lists and rules at once; a clock set back puts nothing
// back; a netvm that refused a list is asked again after the retry window.
#include "qnet/firewall/expiry.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "qnet/firewall/rule_list.h"

namespace qnet::firewall {
namespace {

constexpr int64_t kT = 1700000000;

class FakeClock final : public Clock {
 public:
  int64_t UnixNow() const override { return now; }
  std::chrono::steady_clock::time_point SteadyNow() const override { return {}; }
  int64_t now = kT;
};

RuleList List(std::vector<std::string> lines) {
  auto l = RuleList::Parse(lines, kT);
  EXPECT_TRUE(l.has_value()) << l.error().message();
  return l.has_value() ? *l : RuleList();
}

using Lists = std::vector<std::pair<std::string, RuleList>>;

// Applies what Collect returned, as qnetd does once the netvm took it.
void Apply(Lists& lists, const std::vector<ExpirySchedule::Due>& due) {
  for (const ExpirySchedule::Due& d : due)
    for (auto& [qube, list] : lists)
      if (qube == d.qube) list = d.next;
}

TEST(ExpirySchedule, RuleLeavesExactlyAtItsExpiryNotBefore) {
  FakeClock clock;
  ExpirySchedule schedule(clock);
  Lists lists = {{"work", List({"accept dst4=203.0.113.10 expire=1700000060", "drop"})}};
  clock.now = kT + 59;
  EXPECT_TRUE(schedule.Collect(lists).empty());
  clock.now = kT + 60;
  auto due = schedule.Collect(lists);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].qube, "work");
  EXPECT_EQ(due[0].removed, 1u);
  EXPECT_EQ(due[0].next.Format(), std::vector<std::string>{"action=drop"});
  // Collect only reports: the caller's list is as it was.
  EXPECT_EQ(lists[0].second.Format().size(), 2u);
}

TEST(ExpirySchedule, OnlyExpiredRulesLeaveOthersKeepTheirPlace) {
  FakeClock clock;
  ExpirySchedule schedule(clock);
  const RuleList untouched = List({"accept dst4=198.51.100.1 expire=1700000030", "drop"});
  Lists lists = {
      {"work", List({"accept proto=icmp", "drop dst4=203.0.113.7 expire=1700000010",
                     "accept dsthost=web.lab expire=1700000500", "accept dst4=203.0.113.10",
                     "drop proto=udp expire=1700000010"})},
      {"mail", untouched},
      {"anon", RuleList()},
  };
  clock.now = kT + 10;
  auto due = schedule.Collect(lists);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].qube, "work");
  EXPECT_EQ(due[0].removed, 2u);
  EXPECT_EQ(due[0].next.Format(), (std::vector<std::string>{
                                      "action=accept proto=icmp",
                                      "action=accept dsthost=web.lab expire=1700000500",
                                      "action=accept dst4=203.0.113.10/32",
                                  }));
}

TEST(ExpirySchedule, SeveralListsAtOnceAndTheLastRuleLeavesAnEmptyListThatDrops) {
  FakeClock clock;
  ExpirySchedule schedule(clock);
  Lists lists = {
      {"a", List({"accept expire=1700000100"})},
      {"b", List({"accept proto=tcp expire=1700000050", "accept proto=udp expire=1700000100"})},
      {"c", List({"accept expire=1700000101"})},
  };
  clock.now = kT + 100;
  auto due = schedule.Collect(lists);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].qube, "a");
  EXPECT_EQ(due[1].qube, "b");
  EXPECT_EQ(due[1].removed, 2u);
  for (const auto& d : due) {
    EXPECT_FALSE(d.next.is_default()) << d.qube;  // never back to the default accept
    EXPECT_TRUE(d.next.Effective().empty()) << d.qube;
  }
}

TEST(ExpirySchedule, ClockSetBackReopensNothing) {
  FakeClock clock;
  ExpirySchedule schedule(clock);
  Lists lists = {{"work", List({"accept dst4=203.0.113.10 expire=1700000060",
                                "accept dst4=203.0.113.11 expire=1700000600", "drop"})}};
  clock.now = kT + 60;
  auto due = schedule.Collect(lists);
  Apply(lists, due);
  for (auto& d : due) schedule.Pushed(d.qube, true);
  ASSERT_EQ(lists[0].second.Format().size(), 2u);
  // An hour back: the removed rule does not come back, nothing else leaves.
  clock.now = kT - 3600;
  EXPECT_TRUE(schedule.Collect(lists).empty());
  EXPECT_EQ(lists[0].second.Format(),
            (std::vector<std::string>{"action=accept dst4=203.0.113.11/32 expire=1700000600",
                                      "action=drop"}));
  // Positive control: the other rule still leaves at its own time.
  clock.now = kT + 600;
  EXPECT_EQ(schedule.Collect(lists).size(), 1u);
}

TEST(ExpirySchedule, RefusedListIsRetriedAfterTheWindowNotAtEveryTick) {
  FakeClock clock;
  ExpirySchedule schedule(clock);
  Lists lists = {{"work", List({"accept expire=1700000010", "drop"})},
                 {"mail", List({"accept expire=1700000010", "drop"})}};
  clock.now = kT + 10;
  ASSERT_EQ(schedule.Collect(lists).size(), 2u);
  schedule.Pushed("work", false);
  clock.now = kT + 11;
  auto due = schedule.Collect(lists);  // mail was not pushed yet: still due
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].qube, "mail");
  clock.now = kT + 10 + ExpirySchedule::kRetrySeconds - 1;
  EXPECT_EQ(schedule.Collect(lists).size(), 1u);
  clock.now = kT + 10 + ExpirySchedule::kRetrySeconds;
  EXPECT_EQ(schedule.Collect(lists).size(), 2u);
  schedule.Pushed("work", true);
  clock.now = kT + 12;  // after a success no window holds it back
  EXPECT_EQ(schedule.Collect(lists).size(), 2u);
}

// A retry time far beyond the window means the clock went back: the list
// is asked for at once rather than hours later.
TEST(ExpirySchedule, ClockSetBackPastARetryWindowRetriesAtOnce) {
  FakeClock clock;
  ExpirySchedule schedule(clock);
  Lists lists = {{"work", List({"accept expire=1700000010", "drop"})}};
  clock.now = kT + 1000;
  schedule.Pushed("work", false);  // retry at kT + 1030
  clock.now = kT + 1001;
  EXPECT_TRUE(schedule.Collect(lists).empty());  // inside the window
  clock.now = kT + 500;                          // set back, the rule still expired
  EXPECT_EQ(schedule.Collect(lists).size(), 1u);
}

}  // namespace
}  // namespace qnet::firewall
