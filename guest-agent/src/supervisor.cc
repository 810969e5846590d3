#include "supervisor.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include "qnet/base/log.h"

namespace qnet::agent {

std::chrono::milliseconds RestartBackoff::AfterExit(SupervisorClock::duration ran_for) {
  if (ran_for >= policy_.stable) next_ = policy_.initial;
  std::chrono::milliseconds delay = next_;
  next_ = std::min(next_ * 2, policy_.max);
  return delay;
}

void Supervisor::SetWanted(std::vector<qube::SupervisedService> wanted, TimePoint now) {
  for (auto& kv : entries_) {
    // (clang 14 cannot capture a structured binding)
    const std::string& name = kv.first;
    Entry& e = kv.second;
    auto it = std::find_if(wanted.begin(), wanted.end(),
                           [&](const qube::SupervisedService& s) { return s.name == name; });
    if (it == wanted.end()) {
      e.want.reset();
      if (e.pid > 0) Stop(e, now);
      e.start_at.reset();
    }
  }
  for (auto& s : wanted) {
    auto [it, fresh] = entries_.try_emplace(s.name);
    Entry& e = it->second;
    if (fresh) e.backoff = RestartBackoff(policy_);
    bool same = e.want && *e.want == s;
    e.want = std::move(s);
    if (e.pid > 0) {
      if (!(e.running == *e.want)) Stop(e, now);
    } else if (!same || !e.start_at) {
      e.start_at = now;
    }
  }
  Collect();
  changed_ = true;
}

void Supervisor::Stop(Entry& e, TimePoint now) {
  if (e.stopping) return;
  launcher_.Signal(e.pid, SIGTERM);
  e.stopping = true;
  e.kill_at = now + kStopGrace;
}

void Supervisor::Start(Entry& e, TimePoint now) {
  e.start_at.reset();
  const qube::SupervisedService& s = *e.want;
  if (e.netns && !s.own_netns) {
    launcher_.RemoveNetns(s.name);
    e.netns = false;
  }
  Status ready = OkStatus();
  if (s.own_netns && !e.netns) {
    ready = launcher_.CreateNetns(s.name);
    e.netns = ready.has_value();
  }
  Result<pid_t> pid = ready ? launcher_.Start(s) : Result<pid_t>(Fail(ready.error()));
  changed_ = true;
  if (!pid) {
    auto delay = e.backoff.AfterExit({});
    spdlog::error("qube {}: service {}: cannot start ({}); next try in {} ms", qube_, s.name,
                  pid.error().message(), delay.count());
    e.start_at = now + delay;
    return;
  }
  e.running = s;
  e.pid = *pid;
  e.started = now;
  e.stopping = false;
  e.kill_at.reset();
  if (e.starts++ > 0) spdlog::info("qube {}: service {} restarted (pid {})", qube_, s.name, e.pid);
}

bool Supervisor::Exited(pid_t pid, int status, TimePoint now) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const auto& kv) { return kv.second.pid == pid; });
  if (it == entries_.end()) return false;
  Entry& e = it->second;
  e.pid = 0;
  e.kill_at.reset();
  e.last_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  changed_ = true;
  if (e.want) {
    // Asked to stop for a new description: start that one now.
    auto delay = e.stopping ? std::chrono::milliseconds(0) : e.backoff.AfterExit(now - e.started);
    if (!e.stopping)
      spdlog::warn("qube {}: service {} exited ({}); restarting in {} ms", qube_, it->first,
                   e.last_exit, delay.count());
    e.start_at = now + delay;
  }
  e.stopping = false;
  Collect();
  return true;
}

void Supervisor::Run(TimePoint now) {
  for (auto& [name, e] : entries_) {
    if (e.pid > 0 && e.kill_at && now >= *e.kill_at) {
      spdlog::warn("qube {}: service {} ignored SIGTERM; killing it", qube_, name);
      launcher_.Signal(e.pid, SIGKILL);
      e.kill_at.reset();
    }
    if (e.pid == 0 && e.want && e.start_at && now >= *e.start_at) Start(e, now);
  }
}

std::optional<Supervisor::TimePoint> Supervisor::NextDue() const {
  std::optional<TimePoint> due;
  auto consider = [&](const std::optional<TimePoint>& t) {
    if (t && (!due || *t < *due)) due = t;
  };
  for (const auto& [name, e] : entries_) {
    if (e.pid > 0) consider(e.kill_at);
    if (e.pid == 0 && e.want) consider(e.start_at);
  }
  return due;
}

void Supervisor::StopAll() {
  for (auto& [name, e] : entries_) {
    e.want.reset();
    e.start_at.reset();
    if (e.pid > 0) launcher_.Signal(e.pid, SIGTERM);
  }
}

void Supervisor::Collect() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (!e.want && e.pid == 0) {
      if (e.netns) launcher_.RemoveNetns(it->first);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<qube::ServiceState> Supervisor::States() const {
  std::vector<qube::ServiceState> out;
  for (const auto& [name, e] : entries_)
    out.push_back({.name = name,
                   .pid = e.pid,
                   .restarts = std::max(0, e.starts - 1),
                   .last_exit = e.last_exit});
  return out;
}

}  // namespace qnet::agent
