// Readable builders for rules: each returns the expression fragment that nft
// itself would emit for the same match or statement, so callers write
//
//   Rule{"netvm-input", Concat(IifNamePrefix("vif"), L4Proto(L4::kUdp), Dport(53), Accept())}
//
// Matches that only make sense for one family or protocol carry their
// dependency (Ip4Saddr starts with `meta nfproto ipv4`, IcmpType with
// `meta l4proto icmp`), as nft adds them in an inet table. Dport/Sport do
// not: put L4Proto(kTcp|kUdp) before them (or use TcpDport/UdpDport).
//
// Bad input (an interface name longer than 15 bytes, an empty prefix, an
// address of the wrong family) yields an Unsupported expression naming the
// problem; Batch::AddRule then refuses the rule. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/nft/ruleset.h"

namespace qnet::nft {

using Exprs = std::vector<Expr>;

// Joins fragments in order; fragments passed as rvalues are moved from.
template <typename... Parts>
Exprs Concat(Parts&&... parts) {
  Exprs out;
  out.reserve((std::size(parts) + ... + 0));
  auto append = [&out]<typename P>(P&& part) {
    if constexpr (std::is_rvalue_reference_v<P&&>) {
      out.insert(out.end(), std::make_move_iterator(std::begin(part)),
                 std::make_move_iterator(std::end(part)));
    } else {
      out.insert(out.end(), std::begin(part), std::end(part));
    }
  };
  (append(std::forward<Parts>(parts)), ...);
  return out;
}

enum class NfProtoValue : uint8_t { kV4 = NFPROTO_IPV4, kV6 = NFPROTO_IPV6 };
enum class L4 : uint8_t { kIcmp = 1, kTcp = 6, kUdp = 17, kIcmpv6 = 58 };

// conntrack state bits as the kernel reports them in NFT_CT_STATE.
enum CtStateBit : uint32_t {
  kCtInvalid = 1u << 0,
  kCtEstablished = 1u << 1,
  kCtRelated = 1u << 2,
  kCtNew = 1u << 3,
  kCtUntracked = 1u << 6,
};

// ---- Matches ----
Exprs IifName(std::string_view name);          // iifname "eth0"
Exprs IifNamePrefix(std::string_view prefix);  // iifname "vif*"
Exprs OifName(std::string_view name);
Exprs OifNamePrefix(std::string_view prefix);
Exprs NfProto(NfProtoValue p);  // meta nfproto ipv4|ipv6
Exprs L4Proto(L4 p);            // meta l4proto tcp|udp|icmp|icmpv6
// Whether an address match starts with its `meta nfproto` test. kKnown is
// for a rule that tests the family itself before it (once, as nft does for
// `ip daddr X icmp type Y`), or for a chain that only packets of that
// family reach; a packet of the other family would be misread there. In an
// inet table nft lists an address without the test as a raw field
// (`@nh,128,32`), and cannot load a raw field's lookup in a typed set.
enum class FamilyTest : uint8_t { kInclude, kKnown };
Exprs Ip4Saddr(const IpAddr& a, FamilyTest f = FamilyTest::kInclude);
Exprs Ip4Daddr(const IpAddr& a, FamilyTest f = FamilyTest::kInclude);
// A prefix on a byte boundary loads only its bytes (as nft); others load
// the address, mask it and compare.
Exprs Ip4SaddrPrefix(const IpPrefix& p, FamilyTest f = FamilyTest::kInclude);
Exprs Ip4DaddrPrefix(const IpPrefix& p, FamilyTest f = FamilyTest::kInclude);
Exprs Ip6Saddr(const IpAddr& a, FamilyTest f = FamilyTest::kInclude);
Exprs Ip6Daddr(const IpAddr& a, FamilyTest f = FamilyTest::kInclude);
Exprs Ip6SaddrPrefix(const IpPrefix& p, FamilyTest f = FamilyTest::kInclude);
Exprs Ip6DaddrPrefix(const IpPrefix& p, FamilyTest f = FamilyTest::kInclude);
Exprs Dport(uint16_t port);                  // th dport (after L4Proto tcp/udp)
Exprs DportRange(uint16_t lo, uint16_t hi);  // th dport lo-hi, inclusive (cmp gte, cmp lte)
Exprs Sport(uint16_t port);
Exprs TcpDport(uint16_t port);    // L4Proto(kTcp) + Dport
Exprs UdpDport(uint16_t port);    // L4Proto(kUdp) + Dport
Exprs IcmpType(uint8_t type);     // meta l4proto icmp icmp type t
Exprs Icmpv6Type(uint8_t type);   // meta l4proto icmpv6 icmpv6 type t
Exprs Ip6HopLimit(uint8_t hops);  // meta nfproto ipv6 ip6 hoplimit n
Exprs CtStateIn(uint32_t bits);   // ct state & bits != 0 (CtStateBit values)
Exprs CtStateInvalid();
Exprs CtOriginalDaddr4(const IpAddr& a);  // ct original ip daddr a
Exprs SkUid(uint32_t uid);                // meta skuid uid
// The kernel's clock (CLOCK_REALTIME, ns since the epoch) in [from, until):
// meta time => reg, byteorder hton, cmp gte from (when given), then again
// meta time => reg, byteorder hton, cmp lt until: exactly what nft emits for
// `meta time >= A meta time < B`, so its listing loads back unchanged.
// Every daemon may be dead: the kernel alone decides.
Exprs MetaTimeWithin(std::optional<uint64_t> from_ns, uint64_t until_ns);

// Set lookups and verdict maps (the set lives in the same table).
Exprs Ip4SaddrIn(std::string_view set, bool invert = false,  // ip saddr [!=] @set
                 FamilyTest f = FamilyTest::kInclude);
Exprs Ip4DaddrIn(std::string_view set, bool invert = false, FamilyTest f = FamilyTest::kInclude);
Exprs Ip6SaddrIn(std::string_view set, bool invert = false, FamilyTest f = FamilyTest::kInclude);
Exprs Ip6DaddrIn(std::string_view set, bool invert = false, FamilyTest f = FamilyTest::kInclude);
Exprs VmapIp4Saddr(std::string_view map);  // ip saddr vmap @map
Exprs VmapIp6Saddr(std::string_view map);  // ip6 saddr vmap @map
// The input interface and the source address as one concatenated key
// (set type ifname . ipv4_addr / ipv6_addr): a source bound to the
// interface it must arrive on. meta iifname . ip[6] saddr [!=] @set, and
// the same as a verdict map.
Exprs IifnameSaddrIn(NfProtoValue family, std::string_view set, bool invert = false);
Exprs VmapIifnameSaddr(NfProtoValue family, std::string_view map);

// ---- Statements ----
Exprs Accept();
Exprs Drop();
Exprs Jump(std::string_view chain);
Exprs Goto(std::string_view chain);
Exprs Return();
Exprs Count();                            // anonymous counter
Exprs CountNamed(std::string_view name);  // counter name "name" (objref)
Exprs Masquerade();
Exprs Dnat4(const IpAddr& to, std::optional<uint16_t> port = std::nullopt);
Exprs Dnat6(const IpAddr& to, std::optional<uint16_t> port = std::nullopt);
Exprs RejectTcpReset();         // reject with tcp reset (after L4Proto(kTcp))
Exprs RejectAdminProhibited();  // reject with icmpx admin-prohibited

// ---- Set element keys (byte layout the matching rule loads) ----
Bytes AddrKey(const IpAddr& a);          // 4 or 16 bytes, network order
Bytes PortKey(uint16_t port);            // 2 bytes, network order
Bytes IfnameKey(std::string_view name);  // 16 bytes, zero padded (truncated at 15)
// A concatenation key: each field padded to a multiple of 4 bytes.
Bytes ConcatKey(const std::vector<Bytes>& fields);

}  // namespace qnet::nft
