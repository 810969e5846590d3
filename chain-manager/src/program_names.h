// The programs qnet starts by name, from the directory of the running one.
// The QNET_TEST_HOOKS build (qnet-test, qnetd-test, qnet-agent-test: the
// test hooks, never installed) starts its own variants, so that a test's
// chain carries the hooks from the CLI down to every agent, and a shipped
// chain carries none.
#pragma once

namespace qnet::chain {

#ifdef QNET_TEST_HOOKS
inline constexpr const char* kQnetdProgram = "qnetd-test";
inline constexpr const char* kAgentProgram = "qnet-agent-test";
#else
inline constexpr const char* kQnetdProgram = "qnetd";
inline constexpr const char* kAgentProgram = "qnet-agent";
#endif

}  // namespace qnet::chain
