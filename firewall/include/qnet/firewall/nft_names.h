// Names of the chains, sets, maps and counters the firewall owns inside a
// netvm's `inet qnet` table. Everything it owns is named "firewall-forward"
// or starts with "fw-"; nothing else in the table may. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qnet::firewall {

// The regular chain the netvm's base `forward` chain jumps to.
inline constexpr std::string_view kForwardChain = "firewall-forward";
// Every drop goes here: TCP gets a reset, the rest ICMP admin-prohibited.
inline constexpr std::string_view kRejectChain = "fw-reject";
// Verdict maps from a client's source address to its chain.
inline constexpr std::string_view kSrc4Map = "fw-src4";
inline constexpr std::string_view kSrc6Map = "fw-src6";
// The clients' interfaces: a packet from one of them whose source address
// is in neither map is dropped (and counted) here.
inline constexpr std::string_view kVifSet = "fw-vifs";
inline constexpr std::string_view kUnknownSourceCounter = "fw-unknown-source";

// fw-<id>: the client's rules for its IPv4 packets (fw-src4 leads here).
std::string ClientChain(uint32_t id);
// fw-<id>-6: the same for its IPv6 packets (fw-src6), when it has IPv6.
// Each chain sees one family only, so its rules need no family test.
std::string ClientChain6(uint32_t id);
// Whether `name` is one of client `id`'s chains, sets or counters: fw-<id>
// or fw-<id>-... (so fw-1-x0 is client 1's, fw-12 is not).
bool IsClientObject(uint32_t id, std::string_view name);
// fw-<id>-drop: the named counter of the client's final drop.
std::string ClientDropCounter(uint32_t id);
// The addresses of rule `rule`'s hostname: fw-<id>-a<rule>-4 / -6 for an
// accept rule (elements time out), fw-<id>-d<rule>-4 / -6 for a drop rule
// (they never do). The action is in the name because the kernel cannot
// change a set's flags: a rule of the other action moving to that number
// gets a set of its own, and the old one is deleted as stale.
std::string HostSet(uint32_t id, size_t rule, bool ipv6, bool accept);

}  // namespace qnet::firewall
