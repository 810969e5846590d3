#include "qnet/nft/match.h"

#include <fmt/format.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <net/if.h>

#include <algorithm>
#include <cstring>

namespace qnet::nft {
namespace {

// IPv4/IPv6 header offsets of the addresses and the hop limit.
constexpr uint32_t kIp4SaddrOffset = 12;
constexpr uint32_t kIp4DaddrOffset = 16;
constexpr uint32_t kIp6SaddrOffset = 8;
constexpr uint32_t kIp6DaddrOffset = 24;
constexpr uint32_t kIp6HopLimitOffset = 7;
constexpr uint32_t kThSportOffset = 0;
constexpr uint32_t kThDportOffset = 2;

Bytes U8(uint8_t v) { return Bytes{v}; }

// Registers hold meta/ct integers in host byte order.
Bytes HostU32(uint32_t v) {
  Bytes b(4);
  std::memcpy(b.data(), &v, 4);
  return b;
}

Bytes Be16(uint16_t v) {
  return Bytes{static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v & 0xff)};
}

Exprs Bad(std::string what) { return {Unsupported{std::move(what)}}; }

Exprs MetaEq(uint32_t key, Bytes value) {
  return {Meta{key, NFT_REG_1}, Cmp{NFT_CMP_EQ, NFT_REG_1, std::move(value)}};
}

Exprs IfNameMatch(uint32_t key, std::string_view name, bool prefix) {
  const char* what = key == NFT_META_IIFNAME ? "iifname" : "oifname";
  if (name.empty() || name.size() >= IFNAMSIZ)
    return Bad(
        fmt::format("{} \"{}\": an interface name has 1 to {} bytes", what, name, IFNAMSIZ - 1));
  // An exact name compares the whole zero-padded IFNAMSIZ buffer (as nft
  // does); a prefix compares only its own bytes.
  Bytes value(name.begin(), name.end());
  if (!prefix) value.resize(IFNAMSIZ, 0);
  return MetaEq(key, std::move(value));
}

Exprs FamilyMatch(bool v4, FamilyTest f) {
  if (f == FamilyTest::kKnown) return {};
  return NfProto(v4 ? NfProtoValue::kV4 : NfProtoValue::kV6);
}

Exprs AddrMatch(const IpAddr& a, bool v4, uint32_t offset, const char* what, FamilyTest f) {
  if (a.is_v4() != v4) return Bad(fmt::format("{} {}: wrong address family", what, a.ToString()));
  Exprs out = FamilyMatch(v4, f);
  out.push_back(
      Payload{NFT_PAYLOAD_NETWORK_HEADER, offset, static_cast<uint32_t>(a.size()), NFT_REG_1});
  out.push_back(Cmp{NFT_CMP_EQ, NFT_REG_1, AddrKey(a)});
  return out;
}

Exprs PrefixMatch(const IpPrefix& p, bool v4, uint32_t offset, const char* what, FamilyTest f) {
  const int full = v4 ? 32 : 128;
  if (p.addr().is_v4() != v4 || p.len() < 0 || p.len() > full)
    return Bad(fmt::format("{} {}: wrong address family or length", what, p.ToString()));
  if (p.len() == full) return AddrMatch(p.addr(), v4, offset, what, f);
  Exprs out = FamilyMatch(v4, f);
  if (p.len() == 0) return out;
  const Bytes net = AddrKey(p.Network().addr());
  if (p.len() % 8 == 0) {
    // As nft: a prefix on a byte boundary loads and compares only its bytes.
    const uint32_t bytes = static_cast<uint32_t>(p.len() / 8);
    out.push_back(Payload{NFT_PAYLOAD_NETWORK_HEADER, offset, bytes, NFT_REG_1});
    out.push_back(Cmp{NFT_CMP_EQ, NFT_REG_1, Bytes(net.begin(), net.begin() + bytes)});
    return out;
  }
  const uint32_t len = v4 ? 4 : 16;
  Bytes mask(len, 0);
  for (int bit = 0; bit < p.len(); ++bit) mask[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
  out.push_back(Payload{NFT_PAYLOAD_NETWORK_HEADER, offset, len, NFT_REG_1});
  out.push_back(Bitwise{NFT_REG_1, NFT_REG_1, len, mask, Bytes(len, 0)});
  out.push_back(Cmp{NFT_CMP_EQ, NFT_REG_1, net});
  return out;
}

Exprs SetMatch(bool v4, uint32_t offset, std::string_view set, std::optional<uint32_t> dreg,
               bool invert, FamilyTest f = FamilyTest::kInclude) {
  Exprs out = FamilyMatch(v4, f);
  out.push_back(Payload{NFT_PAYLOAD_NETWORK_HEADER, offset, v4 ? 4u : 16u, NFT_REG_1});
  out.push_back(Lookup{std::string(set), NFT_REG_1, dreg, invert});
  return out;
}

// meta iifname (16 bytes: 32-bit registers 0-3) . saddr (from register 4):
// one key spanning the registers from NFT_REG_1, as nft lays out a
// concatenation.
Exprs IifnameSaddrMatch(NfProtoValue family, std::string_view set, std::optional<uint32_t> dreg,
                        bool invert) {
  const bool v4 = family == NfProtoValue::kV4;
  Exprs out = NfProto(family);
  out.push_back(Meta{NFT_META_IIFNAME, NFT_REG_1});
  out.push_back(Payload{NFT_PAYLOAD_NETWORK_HEADER, v4 ? kIp4SaddrOffset : kIp6SaddrOffset,
                        v4 ? 4u : 16u, NFT_REG32_04});
  out.push_back(Lookup{std::string(set), NFT_REG_1, dreg, invert});
  return out;
}

Exprs Dnat(const IpAddr& to, std::optional<uint16_t> port, bool v4) {
  if (to.is_v4() != v4) return Bad(fmt::format("dnat to {}: wrong address family", to.ToString()));
  Exprs out{ImmediateData{NFT_REG_1, AddrKey(to)}};
  Nat nat{NatType::kDnat, v4 ? Family::kIp : Family::kIp6, NFT_REG_1, std::nullopt, 0};
  if (port) {
    out.push_back(ImmediateData{NFT_REG_2, Be16(*port)});
    nat.reg_proto_min = NFT_REG_2;
  }
  out.push_back(nat);
  return out;
}

Exprs ThPort(uint32_t offset, uint16_t port) {
  return {Payload{NFT_PAYLOAD_TRANSPORT_HEADER, offset, 2, NFT_REG_1},
          Cmp{NFT_CMP_EQ, NFT_REG_1, Be16(port)}};
}

Exprs TypeMatch(L4 proto, uint8_t type) {
  return Concat(L4Proto(proto), Exprs{Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1},
                                      Cmp{NFT_CMP_EQ, NFT_REG_1, U8(type)}});
}

Exprs CtStateMask(uint32_t bits) {
  return {Ct{NFT_CT_STATE, NFT_REG_1, std::nullopt},
          Bitwise{NFT_REG_1, NFT_REG_1, 4, HostU32(bits), HostU32(0)},
          Cmp{NFT_CMP_NEQ, NFT_REG_1, HostU32(0)}};
}

}  // namespace

Exprs IifName(std::string_view name) { return IfNameMatch(NFT_META_IIFNAME, name, false); }
Exprs IifNamePrefix(std::string_view prefix) { return IfNameMatch(NFT_META_IIFNAME, prefix, true); }
Exprs OifName(std::string_view name) { return IfNameMatch(NFT_META_OIFNAME, name, false); }
Exprs OifNamePrefix(std::string_view prefix) { return IfNameMatch(NFT_META_OIFNAME, prefix, true); }

Exprs NfProto(NfProtoValue p) { return MetaEq(NFT_META_NFPROTO, U8(static_cast<uint8_t>(p))); }
Exprs L4Proto(L4 p) { return MetaEq(NFT_META_L4PROTO, U8(static_cast<uint8_t>(p))); }

Exprs Ip4Saddr(const IpAddr& a, FamilyTest f) {
  return AddrMatch(a, true, kIp4SaddrOffset, "ip saddr", f);
}
Exprs Ip4Daddr(const IpAddr& a, FamilyTest f) {
  return AddrMatch(a, true, kIp4DaddrOffset, "ip daddr", f);
}
Exprs Ip4SaddrPrefix(const IpPrefix& p, FamilyTest f) {
  return PrefixMatch(p, true, kIp4SaddrOffset, "ip saddr", f);
}
Exprs Ip4DaddrPrefix(const IpPrefix& p, FamilyTest f) {
  return PrefixMatch(p, true, kIp4DaddrOffset, "ip daddr", f);
}
Exprs Ip6Saddr(const IpAddr& a, FamilyTest f) {
  return AddrMatch(a, false, kIp6SaddrOffset, "ip6 saddr", f);
}
Exprs Ip6Daddr(const IpAddr& a, FamilyTest f) {
  return AddrMatch(a, false, kIp6DaddrOffset, "ip6 daddr", f);
}
Exprs Ip6SaddrPrefix(const IpPrefix& p, FamilyTest f) {
  return PrefixMatch(p, false, kIp6SaddrOffset, "ip6 saddr", f);
}
Exprs Ip6DaddrPrefix(const IpPrefix& p, FamilyTest f) {
  return PrefixMatch(p, false, kIp6DaddrOffset, "ip6 daddr", f);
}

Exprs Dport(uint16_t port) { return ThPort(kThDportOffset, port); }
Exprs Sport(uint16_t port) { return ThPort(kThSportOffset, port); }
Exprs DportRange(uint16_t lo, uint16_t hi) {
  if (lo > hi) return Bad(fmt::format("dport {}-{}: empty range", lo, hi));
  if (lo == hi) return Dport(lo);
  // Two comparisons, not a range expression: what nft emits for `th dport
  // lo-hi` (it keeps `range` for `!=`), so its listing loads back the same.
  return {Payload{NFT_PAYLOAD_TRANSPORT_HEADER, kThDportOffset, 2, NFT_REG_1},
          Cmp{NFT_CMP_GTE, NFT_REG_1, Be16(lo)}, Cmp{NFT_CMP_LTE, NFT_REG_1, Be16(hi)}};
}
Exprs TcpDport(uint16_t port) { return Concat(L4Proto(L4::kTcp), Dport(port)); }
Exprs UdpDport(uint16_t port) { return Concat(L4Proto(L4::kUdp), Dport(port)); }

Exprs IcmpType(uint8_t type) { return TypeMatch(L4::kIcmp, type); }
Exprs Icmpv6Type(uint8_t type) { return TypeMatch(L4::kIcmpv6, type); }

Exprs Ip6HopLimit(uint8_t hops) {
  return Concat(NfProto(NfProtoValue::kV6),
                Exprs{Payload{NFT_PAYLOAD_NETWORK_HEADER, kIp6HopLimitOffset, 1, NFT_REG_1},
                      Cmp{NFT_CMP_EQ, NFT_REG_1, U8(hops)}});
}

Exprs CtStateIn(uint32_t bits) {
  if (bits == 0) return Bad("ct state: no state bit given");
  return CtStateMask(bits);
}
Exprs CtStateInvalid() { return CtStateMask(kCtInvalid); }

Exprs CtOriginalDaddr4(const IpAddr& a) {
  if (!a.is_v4()) return Bad(fmt::format("ct original ip daddr {}: not IPv4", a.ToString()));
  return {Ct{NFT_CT_DST_IP, NFT_REG_1, uint8_t{IP_CT_DIR_ORIGINAL}},
          Cmp{NFT_CMP_EQ, NFT_REG_1, AddrKey(a)}};
}

Exprs SkUid(uint32_t uid) { return MetaEq(NFT_META_SKUID, HostU32(uid)); }

Exprs MetaTimeWithin(std::optional<uint64_t> from_ns, uint64_t until_ns) {
  auto be64 = [](uint64_t v) {
    Bytes b(8);
    for (int i = 7; i >= 0; --i, v >>= 8) b[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    return b;
  };
  // The clock is loaded in host order; cmp compares bytes in order, so
  // network order makes it a numeric comparison. One load per comparison,
  // as nft writes `meta time >= A meta time < B`: a single load serving
  // both lists the same, but `nft -f` of that listing loads twice, so the
  // kernel's rule would not be the one qnet installed.
  auto clock = [] {
    return Exprs{Meta{NFT_META_TIME_NS, NFT_REG_1},
                 Byteorder{NFT_REG_1, NFT_REG_1, NFT_BYTEORDER_HTON, 8, 8}};
  };
  Exprs out;
  if (from_ns) out = Concat(clock(), Exprs{Cmp{NFT_CMP_GTE, NFT_REG_1, be64(*from_ns)}});
  return Concat(std::move(out), clock(), Exprs{Cmp{NFT_CMP_LT, NFT_REG_1, be64(until_ns)}});
}

Exprs Ip4SaddrIn(std::string_view set, bool invert, FamilyTest f) {
  return SetMatch(true, kIp4SaddrOffset, set, std::nullopt, invert, f);
}
Exprs Ip4DaddrIn(std::string_view set, bool invert, FamilyTest f) {
  return SetMatch(true, kIp4DaddrOffset, set, std::nullopt, invert, f);
}
Exprs Ip6SaddrIn(std::string_view set, bool invert, FamilyTest f) {
  return SetMatch(false, kIp6SaddrOffset, set, std::nullopt, invert, f);
}
Exprs Ip6DaddrIn(std::string_view set, bool invert, FamilyTest f) {
  return SetMatch(false, kIp6DaddrOffset, set, std::nullopt, invert, f);
}
Exprs VmapIp4Saddr(std::string_view map) {
  return SetMatch(true, kIp4SaddrOffset, map, uint32_t{NFT_REG_VERDICT}, false);
}
Exprs VmapIp6Saddr(std::string_view map) {
  return SetMatch(false, kIp6SaddrOffset, map, uint32_t{NFT_REG_VERDICT}, false);
}
Exprs IifnameSaddrIn(NfProtoValue family, std::string_view set, bool invert) {
  return IifnameSaddrMatch(family, set, std::nullopt, invert);
}
Exprs VmapIifnameSaddr(NfProtoValue family, std::string_view map) {
  return IifnameSaddrMatch(family, map, uint32_t{NFT_REG_VERDICT}, false);
}

Exprs Accept() { return {Verdict{VerdictCode::kAccept, {}}}; }
Exprs Drop() { return {Verdict{VerdictCode::kDrop, {}}}; }
Exprs Jump(std::string_view chain) { return {Verdict{VerdictCode::kJump, std::string(chain)}}; }
Exprs Goto(std::string_view chain) { return {Verdict{VerdictCode::kGoto, std::string(chain)}}; }
Exprs Return() { return {Verdict{VerdictCode::kReturn, {}}}; }
Exprs Count() { return {Counter{}}; }
Exprs CountNamed(std::string_view name) { return {ObjRef{std::string(name)}}; }
Exprs Masquerade() { return {Masq{}}; }
Exprs Dnat4(const IpAddr& to, std::optional<uint16_t> port) { return Dnat(to, port, true); }
Exprs Dnat6(const IpAddr& to, std::optional<uint16_t> port) { return Dnat(to, port, false); }
Exprs RejectTcpReset() { return {Reject{NFT_REJECT_TCP_RST, 0}}; }
Exprs RejectAdminProhibited() {
  return {Reject{NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_ADMIN_PROHIBITED}};
}

Bytes AddrKey(const IpAddr& a) { return Bytes(a.data(), a.data() + a.size()); }
Bytes PortKey(uint16_t port) { return Be16(port); }
Bytes IfnameKey(std::string_view name) {
  Bytes b(IFNAMSIZ, 0);
  std::memcpy(b.data(), name.data(), std::min<size_t>(name.size(), IFNAMSIZ - 1));
  return b;
}
Bytes ConcatKey(const std::vector<Bytes>& fields) {
  Bytes out;
  for (const Bytes& f : fields) {
    out.insert(out.end(), f.begin(), f.end());
    out.resize((out.size() + 3) / 4 * 4, 0);
  }
  return out;
}

}  // namespace qnet::nft
