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

// fw-<id>: the client's rules.
std::string ClientChain(uint32_t id);
// fw-<id>-drop: the named counter of the client's final drop.
std::string ClientDropCounter(uint32_t id);
// fw-<id>-x<rule>: the expiry test of rule number `rule`.
std::string ExpiryChain(uint32_t id, size_t rule);
// fw-<id>-r<rule>-4 / -6: the addresses of rule `rule`'s hostname.
std::string HostSet(uint32_t id, size_t rule, bool ipv6);

}  // namespace qnet::firewall
