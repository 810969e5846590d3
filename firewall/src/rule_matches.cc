#include "rule_matches.h"

#include <cstring>
#include <limits>

#include "qnet/firewall/nft_names.h"
#include "qnet/qube/address.h"

namespace qnet::firewall::internal {
namespace {

using nft::Exprs;

enum class Fam : uint8_t { kAny, kV4, kV6 };

constexpr uint16_t kDnsPort = 53;

// The address families a rule has a half for. A rule that names neither a
// family nor an ICMP flavour stays family-free: one nft rule covers both.
std::vector<Fam> Families(const Rule& rule, const RuleScope& scope) {
  std::vector<Fam> both = {Fam::kV4};
  if (scope.client_has_ipv6) both.push_back(Fam::kV6);
  if (rule.specialtarget) return {Fam::kV4};  // Qubes has no IPv6 virtual DNS
  if (rule.dst) {
    if (const auto* prefix = std::get_if<IpPrefix>(&*rule.dst)) {
      return {prefix->addr().is_v4() ? Fam::kV4 : Fam::kV6};
    }
    return both;
  }
  if (rule.proto == Proto::kIcmp) return both;
  return {Fam::kAny};
}

// The virtual DNS servers that the rule's destination (if any) includes:
// Qubes intersects a dns rule's dsthost with the DNS servers.
std::vector<IpAddr> DnsServers(const Rule& rule, const RuleScope& scope) {
  std::vector<IpAddr> out;
  for (const IpAddr& dns : qube::VirtualDnsServers()) {
    bool included = true;
    if (rule.dst) {
      if (const auto* prefix = std::get_if<IpPrefix>(&*rule.dst)) {
        included = prefix->Contains(dns);
      } else {
        included = false;
        if (scope.resolution != nullptr) {
          for (const ResolvedAddress& r : scope.resolution->addresses) included |= r.addr == dns;
        }
      }
    }
    if (included) out.push_back(dns);
  }
  return out;
}

// Destination alternatives for one family.
std::vector<Exprs> DestinationMatches(const Rule& rule, Fam fam, const RuleScope& scope) {
  if (rule.specialtarget) {
    std::vector<Exprs> out;
    for (const IpAddr& dns : DnsServers(rule, scope)) {
      // By the original destination: the netvm's DNAT has rewritten daddr.
      out.push_back(nft::Concat(nft::NfProto(nft::NfProtoValue::kV4), nft::CtOriginalDaddr4(dns)));
    }
    return out;
  }
  if (rule.dst) {
    if (const auto* prefix = std::get_if<IpPrefix>(&*rule.dst)) {
      IpPrefix net = prefix->Network();
      return {fam == Fam::kV4 ? nft::Ip4DaddrPrefix(net) : nft::Ip6DaddrPrefix(net)};
    }
    std::string set = HostSet(scope.client_id, scope.number, fam == Fam::kV6);
    return {fam == Fam::kV4 ? nft::Ip4DaddrIn(set) : nft::Ip6DaddrIn(set)};
  }
  if (fam == Fam::kV4) return {nft::NfProto(nft::NfProtoValue::kV4)};
  if (fam == Fam::kV6) return {nft::NfProto(nft::NfProtoValue::kV6)};
  return {Exprs{}};
}

Exprs Ports(const PortRange& r) { return nft::DportRange(r.lo, r.hi); }

// Protocol alternatives for one family.
std::vector<Exprs> ProtocolMatches(const Rule& rule, Fam fam) {
  if (rule.specialtarget) {
    // DNS is tcp and udp port 53; a protocol or port range narrows that.
    if (rule.dstports && (rule.dstports->lo > kDnsPort || rule.dstports->hi < kDnsPort)) return {};
    std::vector<Exprs> out;
    if (!rule.proto || rule.proto == Proto::kTcp) {
      out.push_back(nft::Concat(nft::L4Proto(nft::L4::kTcp), nft::Dport(kDnsPort)));
    }
    if (!rule.proto || rule.proto == Proto::kUdp) {
      out.push_back(nft::Concat(nft::L4Proto(nft::L4::kUdp), nft::Dport(kDnsPort)));
    }
    return out;
  }
  if (!rule.proto) return {Exprs{}};
  switch (*rule.proto) {
    case Proto::kTcp:
    case Proto::kUdp: {
      Exprs out = nft::L4Proto(*rule.proto == Proto::kTcp ? nft::L4::kTcp : nft::L4::kUdp);
      if (rule.dstports) out = nft::Concat(out, Ports(*rule.dstports));
      return {out};
    }
    case Proto::kIcmp: {
      bool v6 = fam == Fam::kV6;
      if (rule.icmptype)
        return {v6 ? nft::Icmpv6Type(*rule.icmptype) : nft::IcmpType(*rule.icmptype)};
      return {nft::L4Proto(v6 ? nft::L4::kIcmpv6 : nft::L4::kIcmp)};
    }
  }
  return {};
}

nft::Bytes HostU64(uint64_t v) {
  nft::Bytes b(8);
  std::memcpy(b.data(), &v, 8);
  return b;
}

}  // namespace

std::vector<Exprs> MatchAlternatives(const Rule& rule, const RuleScope& scope) {
  std::vector<Exprs> out;
  for (Fam fam : Families(rule, scope)) {
    std::vector<Exprs> protos = ProtocolMatches(rule, fam);
    for (const Exprs& dst : DestinationMatches(rule, fam, scope)) {
      for (const Exprs& proto : protos) out.push_back(nft::Concat(dst, proto));
    }
  }
  return out;
}

std::optional<std::vector<Exprs>> ExpiryTerms(int64_t expire, bool round_up,
                                              std::optional<int64_t> skip_before) {
  constexpr uint64_t kNsPerSecond = 1'000'000'000;
  constexpr uint64_t kGranule = uint64_t{1} << kTimeGranuleBits;
  constexpr uint64_t kMaxSeconds = (std::numeric_limits<uint64_t>::max() - kGranule) / kNsPerSecond;
  if (expire < 0) return std::vector<Exprs>{};
  if (static_cast<uint64_t>(expire) > kMaxSeconds) return std::nullopt;
  uint64_t end = static_cast<uint64_t>(expire) * kNsPerSecond;
  end = round_up ? (end + kGranule - 1) & ~(kGranule - 1) : end & ~(kGranule - 1);
  // t < end  <=>  for some bit i set in `end`, t agrees with `end` above i
  // and has bit i clear. Each such i is one masked equality, which compares
  // registers bytewise and so needs no byte-order conversion: the kernel
  // stores NFT_META_TIME_NS in host order, and so do mask and value here
  // (the compiler runs on the host that enforces).
  uint64_t skip_ns =
      skip_before && *skip_before > 0 && static_cast<uint64_t>(*skip_before) <= kMaxSeconds
          ? static_cast<uint64_t>(*skip_before) * kNsPerSecond
          : 0;
  std::vector<Exprs> terms;
  for (int bit = 63; bit >= kTimeGranuleBits; --bit) {
    if (((end >> bit) & 1) == 0) continue;
    uint64_t mask = ~uint64_t{0} << bit;
    uint64_t value = bit == 63 ? 0 : end & (~uint64_t{0} << (bit + 1));
    // This term matches exactly [value, value + 2^bit).
    if (value + (uint64_t{1} << bit) <= skip_ns) continue;
    terms.push_back(Exprs{nft::Meta{NFT_META_TIME_NS, NFT_REG_1},
                          nft::Bitwise{NFT_REG_1, NFT_REG_1, 8, HostU64(mask), HostU64(0)},
                          nft::Cmp{NFT_CMP_EQ, NFT_REG_1, HostU64(value)}});
  }
  return terms;
}

}  // namespace qnet::firewall::internal
