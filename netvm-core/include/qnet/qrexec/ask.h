// Calls waiting for a human: what the policy's `ask` action leaves pending
// until `qnet allow ID [--target Q]` / `qnet deny ID` answers it, or its
// timeout (default 60 s) denies it. Pure: time is a parameter. qnetd is
// meant to own one AskQueue under its lock (not thread-safe on its own).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/qrexec/policy.h"

namespace qnet::qrexec {

inline constexpr std::chrono::seconds kDefaultAskTimeout{60};

struct PendingAsk {
  uint64_t id = 0;
  PolicyRequest request;
  PolicyDecision decision;  // action kAsk: the proposed target and default
  std::chrono::steady_clock::time_point deadline;
};

class AskQueue {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  explicit AskQueue(std::chrono::milliseconds timeout = kDefaultAskTimeout) : timeout_(timeout) {}

  // Queues an ask decision; returns its id (1, 2, ...; never reused).
  // kInvalidArgument if the decision is not an ask.
  Result<uint64_t> Add(PolicyRequest request, PolicyDecision decision, TimePoint now);

  // The pending requests, oldest first (expired ones excluded).
  std::vector<PendingAsk> List(TimePoint now) const;

  // The user allowed the call. The target is `target`, or the one proposed
  // (the rule's target= or the request's), or the rule's default_target=.
  // When the rule proposed targets, `target` must be one of them. Returns
  // the allow decision (rule and params of the ask rule). kNotFound for an
  // unknown or expired id; kInvalidArgument for a target not offered or no
  // target at all.
  Result<PolicyDecision> Allow(uint64_t id, const std::optional<std::string>& target,
                               TimePoint now);
  // The user denied the call: the deny decision. kNotFound as Allow.
  Result<PolicyDecision> Deny(uint64_t id, TimePoint now);

  // Removes the requests whose time ran out and returns them with their
  // deny decisions ("not answered within N s").
  std::vector<std::pair<PendingAsk, PolicyDecision>> Expire(TimePoint now);

 private:
  Result<PendingAsk> Take(uint64_t id, TimePoint now);

  std::chrono::milliseconds timeout_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, PendingAsk> pending_;
};

}  // namespace qnet::qrexec
