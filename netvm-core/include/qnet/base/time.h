// The wall clock as unix seconds: the one place qnet reads it for rule
// expiry and `expire=+N` (pure code takes `now` as an argument instead).
#pragma once

#include <cstdint>

namespace qnet {

// Seconds since 1970-01-01 UTC (CLOCK_REALTIME). Thread-safe.
int64_t UnixNow();

}  // namespace qnet
