// Rule expiry in the lists qnetd holds (qvm-firewall's `expire=`). The
// kernel stops matching an expiring rule at its time by itself (contract
// 11); this takes the rule out of its list then, so that `list`, `save`
// and the next apply show what is in force. Everything but the clock is
// the caller's: it passes the lists, sends each changed list to the netvm
// that enforces it, and reports how that went. Not thread-safe (qnetd calls
// it under its lock).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "qnet/base/clock.h"
#include "qnet/firewall/rule_list.h"

namespace qnet::firewall {

class ExpirySchedule {
 public:
  // A netvm that refused a list is asked again this much later, not at
  // every tick (the kernel has stopped matching the rules anyway).
  static constexpr int64_t kRetrySeconds = 30;

  // `clock` must outlive the schedule.
  explicit ExpirySchedule(const Clock& clock) : clock_(clock) {}
  ExpirySchedule(const ExpirySchedule&) = delete;
  ExpirySchedule& operator=(const ExpirySchedule&) = delete;

  struct Due {
    std::string qube;
    RuleList next;  // the qube's list without its expired rules
    size_t removed = 0;
  };

  // The lists (qube name, list) holding a rule whose expiry is at or before
  // the clock's UnixNow(), in the order given, each without those rules;
  // every other rule keeps its place. Lists without such a rule are not
  // returned. A qube whose last push failed is skipped until its retry time
  // (or at once if the clock went back past the retry window).
  std::vector<Due> Collect(const std::vector<std::pair<std::string, RuleList>>& lists) const;

  // What became of sending a Due list: a failure defers the qube by
  // kRetrySeconds; a success clears that.
  void Pushed(const std::string& qube, bool ok);

 private:
  const Clock& clock_;
  std::map<std::string, int64_t> retry_at_;  // qube -> unix time
};

}  // namespace qnet::firewall
