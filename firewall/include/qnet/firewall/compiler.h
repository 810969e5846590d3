// The firewall compiler: the clients of one enforcing netvm and their rule
// lists in, nft values out. Pure: no I/O, no clock (`now` is an input), no
// name resolution (resolved addresses are an input). Thread-safe.
//
// What it builds, all inside the netvm's `inet qnet` table (nft_names.h has
// the names):
//
//   chain firewall-forward            the base `forward` chain jumps here
//     meta iifname . ip saddr vmap @fw-src4
//     meta iifname . ip6 saddr vmap @fw-src6
//                                     one lookup per packet, whatever the
//                                     number of clients; only a client's
//                                     own vif with its own address matches
//     iifname @fw-vifs counter name fw-unknown-source drop
//                                     a client's packet from an address that
//                                     is not the client's own
//   chain fw-reject                   what every drop does
//     meta l4proto tcp reject with tcp reset
//     reject with icmpx admin-prohibited
//   chain fw-<id>, fw-<id>-6          per client, its IPv4 and (when routed)
//     ... accept | goto fw-reject     IPv6 packets: its rules in order, then
//     counter name fw-<id>-drop goto fw-reject   the list's implicit drop.
//                                     Each rule is what nft itself encodes
//                                     for the text `nft list` shows (a
//                                     destination or ICMP type after its
//                                     `meta nfproto` test), so the listing
//                                     loads back with `nft -f` unchanged.
//
// Rule by rule (Qubes' semantics, as qubes-core-agent-linux compiles them):
//  - dst4/dst6 networks match `ip daddr`/`ip6 daddr` (host bits cleared);
//    a hostname matches named sets fw-<id>-a<N>-4 / -6 (accept) or
//    fw-<id>-d<N>-4 / -6 (drop), N = rule number, filled from `names`: an
//    accept rule's elements carry timeouts (ElementTimeout), a drop rule's
//    never do (contract 11). A rule for the other family only (dst6 for a
//    client without IPv6) matches nothing and is left out with a note.
//  - proto=icmp means ICMPv6 for IPv6 destinations (and for the IPv6 half
//    of a rule without destination); dstports/icmptype match `th dport`
//    and the ICMP type.
//  - specialtarget=dns matches tcp and udp port 53 to Qubes' virtual DNS
//    servers (10.139.1.1, .2) by the ORIGINAL destination (`ct original ip
//    daddr`), since the netvm's own DNAT rewrites it in prerouting; a
//    destination, protocol or port range given with it narrows it (Qubes
//    intersects them too); IPv4 only, as Qubes has no IPv6 virtual DNS.
//  - expire: the kernel's clock decides (`meta time`, NFT_META_TIME_NS), so
//    the rule stops matching with every daemon dead: the rule itself tests
//    `meta time < expire` (byteorder hton, then cmp lt, as nft writes it),
//    exact to the nanosecond. An accept also tests `meta time >= now`: a
//    clock set back never opens it again; a drop holds at any time before
//    its expiry. A rule already expired at `now` is left out.
//  - A hostname that did not resolve: in an accept rule the rule matches
//    nothing (its sets are empty) and the rest stays in force; in a drop
//    rule every rule from it on is replaced by the final drop. Both are
//    reported in ClientRules::notes.
// Each nft rule carries a counter and the comment "rule N" (the list
// number), so hit counts can be read back per rule; the final drop has the
// named counter fw-<id>-drop and the comment "default drop".
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"
#include "qnet/firewall/rule_list.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/ruleset.h"

namespace qnet::firewall {

// One downstream qube of the enforcing netvm.
struct Client {
  std::string name;            // qube name, for notes and errors
  uint32_t id = 0;             // qube id: names its chain fw-<id>
  IpAddr ipv4;                 // its address (must be IPv4)
  std::optional<IpAddr> ipv6;  // its IPv6 address when IPv6 is routed
  std::string vif;             // the netvm-side interface, "vif12.0"
  RuleList rules;
};

// One address a name resolved to, with the record's TTL.
struct ResolvedAddress {
  IpAddr addr;
  std::chrono::seconds ttl{0};
  bool operator==(const ResolvedAddress&) const = default;
};

// The outcome of resolving one hostname in the enforcing qube.
struct Resolution {
  bool ok = false;                         // false: the name did not resolve
  std::vector<ResolvedAddress> addresses;  // A and AAAA records
  std::string error;                       // why not, when !ok
};

// Resolutions by hostname (Hostname::name). A name absent from the map is
// treated as not resolved.
using Resolutions = std::map<std::string, Resolution>;

// Hostname refresh policy (Qubes issue 5225): re-resolve at the TTL bounded
// to [60 s, 1 h]. An accept set element lives one refresh interval plus
// kElementGrace, so a refresh that succeeds renews it before it lapses and
// one that fails lets it lapse (closing, never opening).
inline constexpr std::chrono::seconds kMinRefresh{60};
inline constexpr std::chrono::seconds kMaxRefresh{3600};
inline constexpr std::chrono::seconds kElementGrace{30};
// `floor` below kMinRefresh only in tests (qnet-agent-test --refresh-floor).
std::chrono::seconds RefreshInterval(std::chrono::seconds ttl,
                                     std::chrono::seconds floor = kMinRefresh);
std::chrono::seconds ElementTimeout(std::chrono::seconds ttl);

// Elements for a set or map that another part of the output declares.
struct SetEntries {
  std::string set;
  std::vector<nft::SetElement> elements;
  bool operator==(const SetEntries&) const = default;
};

// Everything one client owns. Replacing a client = one transaction that
// flushes its chains, deletes what Stale() lists, (re)creates its chains,
// sets and counter, adds its rules, and adds its map entries; no other
// client's objects are touched.
struct ClientRules {
  uint32_t id = 0;
  std::string name;
  std::vector<nft::Chain> chains;            // fw-<id>, and fw-<id>-6 with IPv6
  std::vector<nft::Rule> rules;              // in order; Rule::chain says where
  std::vector<nft::SetContents> sets;        // hostname sets fw-<id>-{a,d}<N>-4|6
  std::vector<nft::CounterObject> counters;  // fw-<id>-drop
  std::vector<SetEntries> map_entries;       // fw-src4, fw-src6, fw-vifs entries
  std::vector<std::string> notes;            // for `list` and the log
};

// The objects shared by all clients (created once, never flushed when a
// client changes) and each client's own.
struct CompiledFirewall {
  std::vector<nft::Chain> chains;            // firewall-forward, fw-reject
  std::vector<nft::Rule> rules;              // their rules, in order
  std::vector<nft::Set> sets;                // fw-src4, fw-src6 (verdict maps), fw-vifs
  std::vector<nft::CounterObject> counters;  // fw-unknown-source
  std::vector<ClientRules> clients;          // in input order
};

// Compiles every client. kInvalidArgument naming the client if one is not
// well formed (id outside the qube id range, ipv4 not IPv4, ipv6 not IPv6,
// bad vif name, an invalid rule) or two clients share an id, address or vif.
Result<CompiledFirewall> Compile(const std::vector<Client>& clients, const Resolutions& names,
                                 int64_t now);

// The shared part alone (what Compile puts outside `clients`).
CompiledFirewall CompileShared();

// One client, for a partial update. Errors as Compile (for this client).
Result<ClientRules> CompileClient(const Client& client, const Resolutions& names, int64_t now);

// The fallback when a client's list cannot be applied: its chain holds
// only the final drop; its map entries still lead there.
Result<ClientRules> CompileDropAll(const Client& client);

// What `before` has that `after` lacks (chains, sets, counters by name;
// map entries by key): the objects to delete when replacing a client.
struct StaleObjects {
  std::vector<std::string> chains;
  std::vector<std::string> sets;
  std::vector<std::string> counters;
  std::vector<SetEntries> map_entries;
  bool operator==(const StaleObjects&) const = default;
};
StaleObjects Stale(const ClientRules& before, const ClientRules& after);

// Stable text of the output, for logs and golden tests: chains, rules as
// one line of expressions each, sets with their elements.
std::string Render(const CompiledFirewall& compiled);

}  // namespace qnet::firewall
