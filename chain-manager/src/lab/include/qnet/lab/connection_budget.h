// Bounds how many TCP connections a lab server holds open at once. A slot
// may outlive the budget that issued it (sessions die with the io_context,
// after the servers), so the counter is shared. Single-threaded use only.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace qnet::lab {

// One open connection's claim on a budget; released when destroyed.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  explicit ConnectionSlot(std::shared_ptr<size_t> active) : active_(std::move(active)) {}
  ~ConnectionSlot() {
    if (active_) --*active_;
  }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ConnectionSlot(ConnectionSlot&& o) noexcept = default;
  ConnectionSlot& operator=(ConnectionSlot&& o) noexcept {
    if (this != &o) {
      if (active_) --*active_;
      active_ = std::move(o.active_);
    }
    return *this;
  }

  bool valid() const { return active_ != nullptr; }

 private:
  std::shared_ptr<size_t> active_;
};

class ConnectionBudget {
 public:
  explicit ConnectionBudget(size_t max) : max_(max) {}
  // An invalid slot when max connections are already open.
  ConnectionSlot TryAcquire() {
    if (*active_ >= max_) return ConnectionSlot();
    ++*active_;
    return ConnectionSlot(active_);
  }
  size_t active() const { return *active_; }

 private:
  size_t max_;
  std::shared_ptr<size_t> active_ = std::make_shared<size_t>(0);
};

}  // namespace qnet::lab
