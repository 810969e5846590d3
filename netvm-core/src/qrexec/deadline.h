// Private: one deadline shared by the several messages of a call.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

namespace qnet::qrexec {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // No timeout: Remaining() is nullopt (wait forever).
  static Deadline After(std::optional<std::chrono::milliseconds> timeout) {
    Deadline d;
    if (timeout) d.at_ = Clock::now() + *timeout;
    return d;
  }

  // Time left, never negative; nullopt when there is no deadline.
  std::optional<std::chrono::milliseconds> Remaining() const {
    if (!at_) return std::nullopt;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*at_ - Clock::now());
    return std::max(left, std::chrono::milliseconds(0));
  }

 private:
  std::optional<Clock::time_point> at_;
};

}  // namespace qnet::qrexec
