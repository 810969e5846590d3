#include "rule_matches.h"

#include <cstring>
#include <limits>

#include "qnet/firewall/nft_names.h"
#include "qnet/qube/address.h"

namespace qnet::firewall::internal {
namespace {

using nft::Exprs;

constexpr uint16_t kDnsPort = 53;
constexpr nft::FamilyTest kKnown = nft::FamilyTest::kKnown;

// The address families a rule has a half for, among the client's. A rule
// that names neither a family nor an ICMP flavour stays family-free: the
// same nft rule goes in both chains.
std::vector<Fam> Families(const Rule& rule, const RuleScope& scope) {
  std::vector<Fam> both = {Fam::kV4};
  if (scope.client_has_ipv6) both.push_back(Fam::kV6);
  if (rule.specialtarget) return {Fam::kV4};  // Qubes has no IPv6 virtual DNS
  if (rule.dst) {
    if (const auto* prefix = std::get_if<IpPrefix>(&*rule.dst)) {
      if (prefix->addr().is_v4()) return {Fam::kV4};
      if (scope.client_has_ipv6) return {Fam::kV6};
      return {};  // no IPv6 packet of this client reaches the netvm's rules
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
      out.push_back(nft::CtOriginalDaddr4(dns));
    }
    return out;
  }
  if (rule.dst) {
    if (const auto* prefix = std::get_if<IpPrefix>(&*rule.dst)) {
      IpPrefix net = prefix->Network();
      return {fam == Fam::kV4 ? nft::Ip4DaddrPrefix(net, kKnown)
                              : nft::Ip6DaddrPrefix(net, kKnown)};
    }
    std::string set =
        HostSet(scope.client_id, scope.number, fam == Fam::kV6, rule.action == Action::kAccept);
    return {fam == Fam::kV4 ? nft::Ip4DaddrIn(set, false, kKnown)
                            : nft::Ip6DaddrIn(set, false, kKnown)};
  }
  return {Exprs{}};  // any destination; the chain gives the family
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

// Whether the alternative starts with `meta nfproto`, as nft writes a
// destination address or an ICMP type in an inet table: without it nft
// lists the address as a raw field (`@nh,128,32`; a lookup of one in a
// typed set does not load back with `nft -f`), and it adds the test when
// loading `icmp type`, so the reloaded rule would not be this one. The
// chain is per family, so the test is always true there. DNS rules match
// `ct original ip daddr`, which nft writes without it.
bool NeedsFamilyTest(const Rule& rule, Fam fam) {
  if (fam == Fam::kAny || rule.specialtarget) return false;
  return rule.dst.has_value() || (rule.proto == Proto::kIcmp && rule.icmptype.has_value());
}

}  // namespace

std::vector<Alternative> MatchAlternatives(const Rule& rule, const RuleScope& scope) {
  std::vector<Alternative> out;
  for (Fam fam : Families(rule, scope)) {
    Exprs family;
    if (NeedsFamilyTest(rule, fam))
      family = nft::NfProto(fam == Fam::kV4 ? nft::NfProtoValue::kV4 : nft::NfProtoValue::kV6);
    std::vector<Exprs> protos = ProtocolMatches(rule, fam);
    for (const Exprs& dst : DestinationMatches(rule, fam, scope)) {
      for (const Exprs& proto : protos) out.push_back({fam, nft::Concat(family, dst, proto)});
    }
  }
  return out;
}

std::optional<Exprs> ExpiryTest(int64_t expire, std::optional<int64_t> not_before) {
  constexpr uint64_t kNsPerSecond = 1'000'000'000;
  constexpr uint64_t kMaxSeconds = std::numeric_limits<uint64_t>::max() / kNsPerSecond;
  auto ns = [](int64_t s) { return s <= 0 ? 0 : static_cast<uint64_t>(s) * kNsPerSecond; };
  if (expire > 0 && static_cast<uint64_t>(expire) > kMaxSeconds) return std::nullopt;
  std::optional<uint64_t> from;
  if (not_before && *not_before > 0 && static_cast<uint64_t>(*not_before) <= kMaxSeconds)
    from = ns(*not_before);
  return nft::MetaTimeWithin(from, ns(expire));
}

}  // namespace qnet::firewall::internal
