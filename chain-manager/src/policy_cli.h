// `qnet policy check SERVICE[+ARG] SOURCE TARGET`: evaluates the qrexec
// policy (netvm-core qrexec/policy.h) the way qnetd does and prints the
// decision with the rule (FILE:LINE) that made it. Needs no root and no qnetd:
// qubes are described by flags (every qube named is an AppVM unless --type
// says otherwise; dom0 is the AdminVM).
#pragma once

#include <string>
#include <vector>

#include "qnet/qrexec/policy.h"

namespace qnet::chain {

// Where qnetd reads the policy (Qubes: /etc/qubes/policy.d).
inline constexpr const char* kDefaultPolicyDir = "/etc/qnet/policy.d";

struct PolicyCheckArgs {
  std::string dir = kDefaultPolicyDir;  // --policy-dir
  std::string call;                     // SERVICE[+ARG]
  std::string source;
  std::string target;                // a qube, @default, @dispvm, @dispvm:NAME, dom0
  std::vector<std::string> tags;     // --tag QUBE=TAG
  std::vector<std::string> types;    // --type QUBE=TYPE
  std::vector<std::string> dispvms;  // --default-dispvm QUBE=NAME
};

// The request and the qubes it names, from the arguments. kInvalidArgument
// naming the flag for a malformed QUBE=VALUE or SERVICE[+ARG].
Result<std::pair<qrexec::PolicyRequest, qrexec::QubeDirectory>> BuildPolicyCheck(
    const PolicyCheckArgs& args);

// Runs the check and prints "allow target=... (allowed by FILE:LINE)". Exit
// code: 0 allow, 1 deny (also for an invalid policy, whose error is printed),
// 3 ask, 2 bad arguments.
int RunPolicyCheck(const PolicyCheckArgs& args);

}  // namespace qnet::chain
