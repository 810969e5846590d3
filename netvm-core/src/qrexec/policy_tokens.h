// Policy tokens (policy.h): syntax checks used by the parser, and matching
// used by the evaluator. Private to the qrexec library.
#pragma once

#include <string>
#include <string_view>

#include "qnet/base/result.h"
#include "qnet/qrexec/policy.h"

namespace qnet::qrexec::internal {

// "$x" -> "@x" (Qubes 4.0 spelling), "dom0" -> "@adminvm".
std::string NormalizeToken(std::string_view token);

// kInvalidArgument naming the token: "source '@foo': unknown keyword".
Status ValidateSourceToken(std::string_view token);
Status ValidateTargetToken(std::string_view token);
// A target= / default_target= value: a qube, @adminvm (dom0), @dispvm,
// @dispvm:NAME.
Status ValidateRedirectToken(std::string_view key, std::string_view token);

// Whether a rule's (normalized) source token matches the calling qube.
bool MatchSource(std::string_view token, const QubeInfo& source, const QubeDirectory& qubes);
// Whether a rule's target token matches the requested (normalized) target.
bool MatchTarget(std::string_view token, std::string_view requested, const QubeInfo& source,
                 const QubeDirectory& qubes);

}  // namespace qnet::qrexec::internal
