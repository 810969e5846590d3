// A QubeBackend that runs nothing: it records every call in one event log
// (shared by the backend and its qubes) and fails where a test scripts it.
// For unit tests of qnetd's lifecycle logic without root.
#pragma once

#include <fmt/format.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "qnet/chain/backend.h"

namespace qnet::chain::testing {

struct FakeWorld {
  std::vector<std::string> events;  // "spawn work", "verify work", ...
  std::set<std::string> fail;       // events that fail instead ("verify work")
  std::set<std::string> dead;       // qubes whose runtime has died
  std::set<std::string> running;    // what the backend has up now

  Status Record(std::string event) {
    events.push_back(event);
    if (fail.contains(event)) return Fail(Errc::kFailedPrecondition, "scripted: " + event);
    return OkStatus();
  }
  // The events that start with `prefix`, in order.
  std::vector<std::string> Only(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& e : events)
      if (e.rfind(prefix, 0) == 0) out.push_back(e);
    return out;
  }
  // Index of the first / last event with `prefix` (-1: none).
  int First(const std::string& prefix) const {
    for (size_t i = 0; i < events.size(); ++i)
      if (events[i].rfind(prefix, 0) == 0) return static_cast<int>(i);
    return -1;
  }
  int Last(const std::string& prefix) const {
    for (size_t i = events.size(); i-- > 0;)
      if (events[i].rfind(prefix, 0) == 0) return static_cast<int>(i);
    return -1;
  }
};

class FakeQube final : public RunningQube {
 public:
  FakeQube(FakeWorld& w, std::string name, pid_t pid) : w_(w), name_(std::move(name)), pid_(pid) {}
  const std::string& name() const override { return name_; }
  QubeRecord record() const override { return {pid_, 1000ULL + static_cast<unsigned>(pid_)}; }
  bool alive() const override { return !w_.dead.contains(name_); }
  int netns_fd() const override { return -1; }
  Status VerifyLockdown() override { return w_.Record("verify " + name_); }
  Result<DropCounters> ReadDropCounters() override { return DropCounters{}; }
  Result<std::map<int, uint64_t>> ReadRuleHits(uint32_t) override {
    return std::map<int, uint64_t>{};
  }
  Status SetLinkUp(const std::string& ifname) override {
    return w_.Record(fmt::format("up {} {}", name_, ifname));
  }

 private:
  Result<qrexec::CallResult> DoCall(const qrexec::CallRequest& req,
                                    std::chrono::milliseconds) override {
    if (!alive()) return Fail(Errc::kUnavailable, "agent gone");
    QNET_TRY(w_.Record(fmt::format("call {} {}", name_, req.service)));
    return qrexec::CallResult{};
  }
  FakeWorld& w_;
  std::string name_;
  pid_t pid_;
};

class FakeLab final : public Lab {
 public:
  explicit FakeLab(FakeWorld& w) : w_(w) {}
  ~FakeLab() override {
    if (!detached_) (void)w_.Record("lab stop");
  }
  Status Connect(RunningQube& net) override { return w_.Record("lab connect " + net.name()); }
  void Detach() override { detached_ = true; }

 private:
  FakeWorld& w_;
  bool detached_ = false;
};

class FakeBackend final : public QubeBackend {
 public:
  explicit FakeBackend(FakeWorld& w) : w_(w) {}
  std::string_view name() const override { return "fake"; }
  Result<std::unique_ptr<RunningQube>> Spawn(const SpawnParams& p) override {
    QNET_TRY(w_.Record("spawn " + p.name));
    w_.running.insert(p.name);
    w_.dead.erase(p.name);
    return std::unique_ptr<RunningQube>(std::make_unique<FakeQube>(w_, p.name, ++next_pid_));
  }
  Result<std::unique_ptr<RunningQube>> Adopt(const std::string& name,
                                             const QubeRecord& r) override {
    QNET_TRY(w_.Record("adopt " + name));
    return std::unique_ptr<RunningQube>(std::make_unique<FakeQube>(w_, name, r.pid));
  }
  Status Connect(RunningQube& netvm, RunningQube& client, const std::string& vif,
                 const std::string& client_ifname) override {
    return w_.Record(
        fmt::format("connect {} {} {} {}", netvm.name(), vif, client.name(), client_ifname));
  }
  Result<std::unique_ptr<Lab>> StartLab(const std::string&, bool) override {
    QNET_TRY(w_.Record("lab start"));
    return std::unique_ptr<Lab>(std::make_unique<FakeLab>(w_));
  }
  Result<std::unique_ptr<Lab>> AdoptLab(bool) override {
    QNET_TRY(w_.Record("lab adopt"));
    auto lab = std::make_unique<FakeLab>(w_);
    lab->Detach();
    return std::unique_ptr<Lab>(std::move(lab));
  }
  Status Remove(RunningQube& q) override {
    w_.running.erase(q.name());
    return w_.Record("remove " + q.name());
  }
  CleanupReport CleanupInstance(bool) override {
    (void)w_.Record("cleanup");
    w_.running.clear();
    return {};
  }
  Status RemoveStorage(const std::string& qube) override {
    if (w_.running.contains(qube))
      return Fail(Errc::kFailedPrecondition, fmt::format("qube {} is running", qube));
    return w_.Record("remove-storage " + qube);
  }

 private:
  FakeWorld& w_;
  pid_t next_pid_ = 100;
};

}  // namespace qnet::chain::testing
