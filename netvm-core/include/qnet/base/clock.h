// The clock as a dependency: whatever expires rules or schedules refreshes
// takes a Clock, so tests run at a time of their choosing. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

#include "qnet/base/time.h"

namespace qnet {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in unix seconds (rule expiry, relative expire=+N).
  virtual int64_t UnixNow() const = 0;
  // Monotonic time (refresh schedules, timeouts).
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
};

// The real clocks (std::chrono::system_clock and steady_clock).
class SystemClock final : public Clock {
 public:
  int64_t UnixNow() const override { return qnet::UnixNow(); }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace qnet
