#include "qnet/firewall/expiry.h"

namespace qnet::firewall {

std::vector<ExpirySchedule::Due> ExpirySchedule::Collect(
    const std::vector<std::pair<std::string, RuleList>>& lists) const {
  const int64_t now = clock_.UnixNow();
  std::vector<Due> out;
  for (const auto& [qube, list] : lists) {
    auto retry = retry_at_.find(qube);
    // A retry time further away than the window means the clock went back:
    // waiting for it could take hours, so ask now.
    if (retry != retry_at_.end() && retry->second > now && retry->second - now <= kRetrySeconds)
      continue;
    Due due{qube, list, 0};
    due.removed = due.next.RemoveExpired(now);
    if (due.removed > 0) out.push_back(std::move(due));
  }
  return out;
}

void ExpirySchedule::Pushed(const std::string& qube, bool ok) {
  if (ok)
    retry_at_.erase(qube);
  else
    retry_at_[qube] = clock_.UnixNow() + kRetrySeconds;
}

}  // namespace qnet::firewall
