// Pending `ask` calls (ask.h).
#include "qnet/qrexec/ask.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "policy_tokens.h"

namespace qnet::qrexec {
namespace {

PolicyDecision Denied(const PendingAsk& ask, std::string reason) {
  PolicyDecision d;
  d.action = PolicyAction::kDeny;
  d.rule = ask.decision.rule;
  d.notify = ask.decision.notify;
  d.reason = std::move(reason);
  return d;
}

}  // namespace

Result<uint64_t> AskQueue::Add(PolicyRequest request, PolicyDecision decision, TimePoint now) {
  if (decision.action != PolicyAction::kAsk) {
    return Fail(Errc::kInvalidArgument, fmt::format("ask queue: a {} decision needs no answer",
                                                    PolicyActionName(decision.action)));
  }
  uint64_t id = next_id_++;
  pending_.emplace(id, PendingAsk{id, std::move(request), std::move(decision), now + timeout_});
  return id;
}

std::vector<PendingAsk> AskQueue::List(TimePoint now) const {
  std::vector<PendingAsk> out;
  for (const auto& [id, ask] : pending_) {
    if (ask.deadline > now) out.push_back(ask);
  }
  return out;
}

Result<PendingAsk> AskQueue::Take(uint64_t id, TimePoint now) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.deadline <= now) {
    return Fail(Errc::kNotFound, fmt::format("no pending request {}", id));
  }
  PendingAsk ask = std::move(it->second);
  pending_.erase(it);
  return ask;
}

Result<PolicyDecision> AskQueue::Allow(uint64_t id, const std::optional<std::string>& target,
                                       TimePoint now) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.deadline <= now) {
    return Fail(Errc::kNotFound, fmt::format("no pending request {}", id));
  }
  const PolicyDecision& ask = it->second.decision;
  std::vector<std::string> offered;
  if (!ask.target.empty()) offered.push_back(ask.target);
  if (!ask.default_target.empty() && ask.default_target != ask.target) {
    offered.push_back(ask.default_target);
  }
  std::string chosen;
  if (target) {
    QNET_TRY(internal::ValidateRedirectToken("target", *target));
    chosen = *target == "@adminvm" ? "dom0" : *target;
    if (!offered.empty() && std::find(offered.begin(), offered.end(), chosen) == offered.end()) {
      return Fail(Errc::kInvalidArgument,
                  fmt::format("request {}: target {} was not offered (offered: {})", id, chosen,
                              fmt::join(offered, ", ")));
    }
  } else if (!ask.target.empty()) {
    chosen = ask.target;
  } else if (!ask.default_target.empty()) {
    chosen = ask.default_target;
  } else {
    return Fail(Errc::kInvalidArgument,
                fmt::format("request {}: no target proposed: give one", id));
  }
  QNET_ASSIGN_OR_RETURN(PendingAsk taken, Take(id, now));
  PolicyDecision d = taken.decision;
  d.action = PolicyAction::kAllow;
  d.target = chosen;
  d.default_target.clear();
  d.reason = fmt::format("allowed by the user ({})", taken.decision.reason);
  return d;
}

Result<PolicyDecision> AskQueue::Deny(uint64_t id, TimePoint now) {
  QNET_ASSIGN_OR_RETURN(PendingAsk taken, Take(id, now));
  return Denied(taken, fmt::format("denied by the user ({})", taken.decision.reason));
}

std::vector<std::pair<PendingAsk, PolicyDecision>> AskQueue::Expire(TimePoint now) {
  std::vector<std::pair<PendingAsk, PolicyDecision>> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout_).count();
    PolicyDecision d = Denied(it->second, fmt::format("not answered within {} s ({})", seconds,
                                                      it->second.decision.reason));
    out.emplace_back(std::move(it->second), std::move(d));
    it = pending_.erase(it);
  }
  return out;
}

}  // namespace qnet::qrexec
