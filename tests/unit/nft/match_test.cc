// Builders: exact fragments and refusal of bad input.

#include "qnet/nft/match.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace qnet::nft {
namespace {

TEST(Match, IifNamePrefixComparesOnlyThePrefixBytes) {
  EXPECT_EQ(IifNamePrefix("vif"), (Exprs{Meta{NFT_META_IIFNAME, NFT_REG_1},
                                         Cmp{NFT_CMP_EQ, NFT_REG_1, {'v', 'i', 'f'}}}));
}

TEST(Match, ExactNameComparesTheZeroPaddedBuffer) {
  Exprs e = OifName("wg0");
  ASSERT_EQ(e.size(), 2u);
  Bytes want(16, 0);
  want[0] = 'w';
  want[1] = 'g';
  want[2] = '0';
  EXPECT_EQ(std::get<Cmp>(e[1]).data, want);
}

TEST(Match, BadInputBecomesUnsupported) {
  EXPECT_EQ(IifName(""), (Exprs{Unsupported{"iifname \"\": an interface name has 1 to 15 bytes"}}));
  EXPECT_EQ(Ip4Saddr(*IpAddr::Parse("fd00::1")),
            (Exprs{Unsupported{"ip saddr fd00::1: wrong address family"}}));
  EXPECT_EQ(DportRange(10, 9), (Exprs{Unsupported{"dport 10-9: empty range"}}));
  EXPECT_EQ(CtStateIn(0), (Exprs{Unsupported{"ct state: no state bit given"}}));
}

TEST(Match, AddressMatchesCarryTheirFamilyDependency) {
  Exprs e = Ip6Daddr(*IpAddr::Parse("fd09::1"));
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0], Expr(Meta{NFT_META_NFPROTO, NFT_REG_1}));
  EXPECT_EQ(e[1], Expr(Cmp{NFT_CMP_EQ, NFT_REG_1, {NFPROTO_IPV6}}));
  EXPECT_EQ(e[2], Expr(Payload{NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG_1}));
}

TEST(Match, ZeroLengthPrefixMatchesTheWholeFamily) {
  EXPECT_EQ(Ip4DaddrPrefix(*IpPrefix::Parse("0.0.0.0/0")), NfProto(NfProtoValue::kV4));
}

TEST(Match, DnatLoadsAddressAndPortIntoRegisters) {
  EXPECT_EQ(Dnat4(*IpAddr::Parse("10.139.1.1"), 53),
            (Exprs{ImmediateData{NFT_REG_1, {10, 139, 1, 1}}, ImmediateData{NFT_REG_2, {0, 53}},
                   Nat{NatType::kDnat, Family::kIp, NFT_REG_1, uint32_t{NFT_REG_2}, 0}}));
}

TEST(Match, KeysAreNetworkOrderAndPadded) {
  EXPECT_EQ(PortKey(0x1234), (Bytes{0x12, 0x34}));
  EXPECT_EQ(IfnameKey("eth0").size(), 16u);
  EXPECT_EQ(AddrKey(*IpAddr::Parse("10.1.2.3")), (Bytes{10, 1, 2, 3}));
}

}  // namespace
}  // namespace qnet::nft
