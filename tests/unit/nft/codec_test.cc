// Encode rules with Batch, parse the bytes back with libnftnl, decode to
// Expr and compare (libnftnl's own tests do the same). The golden strings
// are what `nft --debug=netlink` printed for the same rules on this machine.

#include <gtest/gtest.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include <cstdio>
#include <memory>
#include <string>

#include "qnet/nft/decode.h"
#include "qnet/nft/match.h"
#include "qnet/nft/readback.h"
#include "test_util.h"

namespace qnet::nft {
namespace {

const Table kTable{Family::kInet, "t"};

// Encodes rule alone in a batch and returns its NEWRULE message decoded.
Rule RoundTrip(const Rule& rule) {
  Batch b;
  b.AddRule(kTable, rule);
  EXPECT_TRUE(b.status().ok()) << b.status().error().message();
  std::vector<uint8_t> bytes = b.Encode();
  std::vector<const nlmsghdr*> body = Body(bytes);
  EXPECT_EQ(body.size(), 1u);
  if (body.size() != 1) return {};
  EXPECT_EQ(MsgType(body[0]), NFT_MSG_NEWRULE);
  Result<RuleState> st = DecodeRule(body[0]);
  EXPECT_TRUE(st.has_value());
  return st ? st->rule : Rule{};
}

// libnftnl's own rendering of each expression of the encoded rule, which is
// the format nft --debug=netlink prints.
std::vector<std::string> LibnftnlText(const Rule& rule) {
  Batch b;
  b.AddRule(kTable, rule);
  std::vector<uint8_t> bytes = b.Encode();
  std::vector<const nlmsghdr*> body = Body(bytes);
  std::unique_ptr<nftnl_rule, decltype(&nftnl_rule_free)> r(nftnl_rule_alloc(), nftnl_rule_free);
  EXPECT_EQ(nftnl_rule_nlmsg_parse(body.at(0), r.get()), 0);
  std::vector<std::string> out;
  auto cb = [](nftnl_expr* e, void* data) -> int {
    char buf[512];
    nftnl_expr_snprintf(buf, sizeof buf, e, NFTNL_OUTPUT_DEFAULT, 0);
    std::string text = std::string(nftnl_expr_get_str(e, NFTNL_EXPR_NAME)) + " " + buf;
    while (!text.empty() && text.back() == ' ') text.pop_back();
    static_cast<std::vector<std::string>*>(data)->push_back(text);
    return 0;
  };
  nftnl_expr_foreach(r.get(), cb, &out);
  return out;
}

class ExprRoundTrip : public testing::TestWithParam<Expr> {};

TEST_P(ExprRoundTrip, EncodesAndDecodesToTheSameExpr) {
  Rule rule{"c", {GetParam()}, std::nullopt};
  EXPECT_EQ(RoundTrip(rule), rule);
}

INSTANTIATE_TEST_SUITE_P(
    EveryKind, ExprRoundTrip,
    testing::Values(
        Expr{Meta{NFT_META_IIFNAME, NFT_REG_1}}, Expr{Meta{NFT_META_SKUID, NFT_REG32_03}},
        Expr{Payload{NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1}},
        Expr{Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_2}},
        Expr{Cmp{NFT_CMP_EQ, NFT_REG_1, {'v', 'i', 'f'}}},
        Expr{Cmp{NFT_CMP_GTE, NFT_REG_1, {0x03, 0xe8}}},
        Expr{Bitwise{NFT_REG_1, NFT_REG_1, 4, {0xff, 0xf0, 0, 0}, {0, 0, 0, 0}}},
        Expr{Range{NFT_RANGE_EQ, NFT_REG_1, {0x03, 0xe8}, {0x07, 0xd0}}},
        Expr{Range{NFT_RANGE_NEQ, NFT_REG_1, {1}, {9}}},
        Expr{Byteorder{NFT_REG_1, NFT_REG_1, NFT_BYTEORDER_HTON, 8, 8}},
        Expr{Byteorder{NFT_REG_2, NFT_REG_1, NFT_BYTEORDER_NTOH, 4, 2}},
        Expr{Verdict{VerdictCode::kAccept, ""}}, Expr{Verdict{VerdictCode::kDrop, ""}},
        Expr{Verdict{VerdictCode::kJump, "fw-10-137-0-12"}},
        Expr{Verdict{VerdictCode::kGoto, "other"}}, Expr{Verdict{VerdictCode::kReturn, ""}},
        Expr{Verdict{VerdictCode::kContinue, ""}}, Expr{ImmediateData{NFT_REG_1, {10, 0, 0, 1}}},
        Expr{Counter{}}, Expr{ObjRef{"drop-input"}},
        Expr{Lookup{"allowed", NFT_REG_1, std::nullopt, false}},
        Expr{Lookup{"blocked", NFT_REG_1, std::nullopt, true}},
        Expr{Lookup{"dispatch", NFT_REG_1, uint32_t{NFT_REG_VERDICT}, false}},
        Expr{Ct{NFT_CT_STATE, NFT_REG_1, std::nullopt}},
        Expr{Ct{NFT_CT_DST_IP, NFT_REG_1, uint8_t{0}}},
        Expr{Ct{NFT_CT_SRC_IP6, NFT_REG_1, uint8_t{1}}},
        Expr{Nat{NatType::kDnat, Family::kIp, NFT_REG_1, std::nullopt, 0}},
        Expr{Nat{NatType::kSnat, Family::kIp6, NFT_REG_1, uint32_t{NFT_REG_2}, 0}}, Expr{Masq{}},
        Expr{Reject{NFT_REJECT_TCP_RST, 0}},
        Expr{Reject{NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_ADMIN_PROHIBITED}},
        Expr{Reject{NFT_REJECT_ICMP_UNREACH, 13}}));

TEST(RuleRoundTrip, WholeRuleWithCommentDecodesEqual) {
  Rule rule{"netvm-input",
            Concat(IifNamePrefix("vif"), L4Proto(L4::kUdp), Dport(53), Count(), Accept()),
            "dns from clients"};
  EXPECT_EQ(RoundTrip(rule), rule);
}

TEST(RuleRoundTrip, EveryBuilderDecodesEqual) {
  const IpAddr v4 = *IpAddr::Parse("10.137.0.12");
  const IpAddr v6 = *IpAddr::Parse("fd09:24ef:4179::a89:c");
  const std::vector<Exprs> fragments = {
      IifName("eth0"),
      OifName("wg0"),
      OifNamePrefix("vif"),
      NfProto(NfProtoValue::kV6),
      Ip4Saddr(v4),
      Ip4Daddr(v4),
      Ip4SaddrPrefix(*IpPrefix::Parse("10.137.0.0/16")),
      Ip4DaddrPrefix(*IpPrefix::Parse("10.0.0.0/12")),
      Ip6Saddr(v6),
      Ip6Daddr(v6),
      Ip6SaddrPrefix(*IpPrefix::Parse("fd09:24ef:4179::/48")),
      Ip6DaddrPrefix(*IpPrefix::Parse("fd00::/8")),
      TcpDport(443),
      UdpDport(53),
      DportRange(1000, 2000),
      Sport(123),
      IcmpType(8),
      Icmpv6Type(135),
      Ip6HopLimit(255),
      CtStateIn(kCtEstablished | kCtRelated),
      CtStateInvalid(),
      CtOriginalDaddr4(v4),
      SkUid(106),
      MetaTimeWithin(std::nullopt, 1796299200'000'000'000),
      MetaTimeWithin(1796295600'000'000'000, 1796299200'000'000'000),
      Ip4SaddrIn("clients"),
      Ip6DaddrIn("blocked", true),
      VmapIp4Saddr("fw-v4"),
      VmapIp6Saddr("fw-v6"),
      IifnameSaddrIn(NfProtoValue::kV4, "clients4", true),
      VmapIifnameSaddr(NfProtoValue::kV6, "fw-src6"),
      Dnat4(v4, 5353),
      Dnat4(v4),
      Dnat6(v6, 53),
      Masquerade(),
      RejectTcpReset(),
      RejectAdminProhibited(),
      CountNamed("drop-output"),
      Return(),
      Goto("x"),
      Jump("y")};
  for (const Exprs& f : fragments) {
    Rule rule{"c", f, std::nullopt};
    EXPECT_EQ(RoundTrip(rule), rule) << ToString(rule);
  }
}

TEST(RuleGolden, IfnameUdpDportMatchesNftDebugOutput) {
  // nft -d netlink add rule inet t c iifname "eth0" udp dport 53 accept
  EXPECT_EQ(LibnftnlText(Rule{"c", Concat(IifName("eth0"), UdpDport(53), Accept())}),
            (std::vector<std::string>{
                "meta load iifname => reg 1",
                "cmp eq reg 1 0x30687465 0x00000000 0x00000000 0x00000000",
                "meta load l4proto => reg 1",
                "cmp eq reg 1 0x00000011",
                "payload load 2b @ transport header + 2 => reg 1",
                "cmp eq reg 1 0x00003500",
                "immediate reg 0 accept",
            }));
}

TEST(RuleGolden, MetaTimeMatchesNftDebugOutput) {
  // TZ=UTC nft -d netlink add rule inet t c meta time >= "2026-12-03 11:00:00"
  //   meta time < "2026-12-03 12:00:00" counter accept   (the clock loaded
  // once per comparison, as nft does, so `nft list` output loads back as is)
  EXPECT_EQ(
      LibnftnlText(Rule{"c", Concat(MetaTimeWithin(1796295600'000'000'000, 1796299200'000'000'000),
                                    Count(), Accept())}),
      (std::vector<std::string>{
          "meta load time => reg 1",
          "byteorder reg 1 = hton(reg 1, 8, 8)",
          "cmp gte reg 1 0x54b9ed18 0x00e098bd",
          "meta load time => reg 1",
          "byteorder reg 1 = hton(reg 1, 8, 8)",
          "cmp lt reg 1 0x9abced18 0x008051ee",
          "counter pkts 0 bytes 0",
          "immediate reg 0 accept",
      }));
}

TEST(RuleGolden, PrefixCtStateObjrefMatchNftDebugOutput) {
  // nft -d netlink add rule inet t c iifname "vif*" ip saddr 10.0.0.0/12
  //   ct state established,related counter name x accept
  EXPECT_EQ(LibnftnlText(Rule{
                "c", Concat(IifNamePrefix("vif"), Ip4SaddrPrefix(*IpPrefix::Parse("10.0.0.0/12")),
                            CtStateIn(kCtEstablished | kCtRelated), CountNamed("x"), Accept())}),
            (std::vector<std::string>{
                "meta load iifname => reg 1",
                "cmp eq reg 1 0x00666976",
                "meta load nfproto => reg 1",
                "cmp eq reg 1 0x00000002",
                "payload load 4b @ network header + 12 => reg 1",
                "bitwise reg 1 = ( reg 1 & 0x0000f0ff ) ^ 0x00000000",
                "cmp eq reg 1 0x0000000a",
                "ct load state => reg 1",
                "bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000",
                "cmp neq reg 1 0x00000000",
                "objref type 1 name x",
                "immediate reg 0 accept",
            }));
}

TEST(RuleGolden, NdSkuidDnatVmapRejectMatchNftDebugOutput) {
  const IpAddr dns = *IpAddr::Parse("10.0.0.1");
  EXPECT_EQ(LibnftnlText(Rule{"c", Concat(Ip6HopLimit(255), Icmpv6Type(135), Accept())}),
            (std::vector<std::string>{"meta load nfproto => reg 1", "cmp eq reg 1 0x0000000a",
                                      "payload load 1b @ network header + 7 => reg 1",
                                      "cmp eq reg 1 0x000000ff", "meta load l4proto => reg 1",
                                      "cmp eq reg 1 0x0000003a",
                                      "payload load 1b @ transport header + 0 => reg 1",
                                      "cmp eq reg 1 0x00000087", "immediate reg 0 accept"}));
  EXPECT_EQ(LibnftnlText(Rule{
                "c", Concat(SkUid(100), CtOriginalDaddr4(*IpAddr::Parse("10.1.1.1")), Drop())}),
            (std::vector<std::string>{"meta load skuid => reg 1", "cmp eq reg 1 0x00000064",
                                      "ct load dst_ip => reg 1 , dir original",
                                      "cmp eq reg 1 0x0101010a", "immediate reg 0 drop"}));
  EXPECT_EQ(LibnftnlText(Rule{"c", Dnat4(dns, 5353)}),
            (std::vector<std::string>{"immediate reg 1 0x0100000a", "immediate reg 2 0x0000e914",
                                      "nat dnat ip addr_min reg 1 proto_min reg 2"}));
  EXPECT_EQ(LibnftnlText(Rule{"c", VmapIp4Saddr("m")}),
            (std::vector<std::string>{"meta load nfproto => reg 1", "cmp eq reg 1 0x00000002",
                                      "payload load 4b @ network header + 12 => reg 1",
                                      "lookup reg 1 set m dreg 0"}));
  EXPECT_EQ(LibnftnlText(Rule{"c", RejectAdminProhibited()}),
            (std::vector<std::string>{"reject type 2 code 3"}));
}

TEST(DecodeRule, UnknownKernelExpressionComesBackUnsupported) {
  // Build a NEWRULE with an expression qnet does not model ("limit").
  std::unique_ptr<nftnl_rule, decltype(&nftnl_rule_free)> r(nftnl_rule_alloc(), nftnl_rule_free);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, "t");
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, "c");
  nftnl_expr* limit = nftnl_expr_alloc("limit");
  nftnl_expr_set_u64(limit, NFTNL_EXPR_LIMIT_RATE, 10);
  nftnl_expr_set_u64(limit, NFTNL_EXPR_LIMIT_UNIT, 1);
  nftnl_rule_add_expr(r.get(), limit);
  std::vector<char> buf(4096);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_NEWRULE, NFPROTO_INET, 0, 1);
  nftnl_rule_nlmsg_build_payload(nlh, r.get());
  Result<RuleState> st = DecodeRule(nlh);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->rule.exprs, std::vector<Expr>{Unsupported{"limit"}});
}

}  // namespace
}  // namespace qnet::nft
