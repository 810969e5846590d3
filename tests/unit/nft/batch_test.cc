// Batch framing, descriptions, validation, set/chain/counter encoding and
// encoding speed.

#include <gtest/gtest.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "qnet/nft/decode.h"
#include "qnet/nft/match.h"
#include "qnet/nft/readback.h"
#include "test_util.h"

namespace qnet::nft {
namespace {

const Table kTable{Family::kInet, "qnet"};

Batch SmallBatch() {
  Batch b(17);
  b.AddTable(kTable);
  b.AddChain(kTable, Chain{"fw-10-137-0-12", std::nullopt});
  b.FlushChain(kTable, "fw-10-137-0-12");
  b.AddRule(kTable, Rule{"fw-10-137-0-12", Accept(), std::nullopt});
  return b;
}

TEST(BatchFraming, BeginMessagesEndWithIncreasingSeqsAndAcks) {
  Batch b = SmallBatch();
  ASSERT_TRUE(b.status().ok());
  std::vector<uint8_t> bytes = b.Encode();
  std::vector<const nlmsghdr*> msgs = Messages(bytes);
  ASSERT_EQ(msgs.size(), 6u);
  EXPECT_EQ(msgs.front()->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
  EXPECT_EQ(msgs.front()->nlmsg_seq, 16u);
  EXPECT_EQ(msgs.back()->nlmsg_type, NFNL_MSG_BATCH_END);
  EXPECT_EQ(msgs.back()->nlmsg_seq, 21u);
  const uint16_t want_types[] = {NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_DELRULE,
                                 NFT_MSG_NEWRULE};
  for (size_t i = 1; i + 1 < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i]->nlmsg_type >> 8, NFNL_SUBSYS_NFTABLES);
    EXPECT_EQ(MsgType(msgs[i]), want_types[i - 1]);
    EXPECT_EQ(msgs[i]->nlmsg_seq, 16u + i);
    // Only the last message asks for an ACK (the kernel answers refusals anyway).
    EXPECT_EQ((msgs[i]->nlmsg_flags & NLM_F_ACK) != 0, i + 2 == msgs.size());
    EXPECT_TRUE(msgs[i]->nlmsg_flags & NLM_F_REQUEST);
  }
  // Creation never uses EXCL, so re-adding an existing chain is a no-op.
  EXPECT_FALSE(msgs[2]->nlmsg_flags & NLM_F_EXCL);
  EXPECT_TRUE(msgs[2]->nlmsg_flags & NLM_F_CREATE);
  EXPECT_TRUE(msgs[4]->nlmsg_flags & NLM_F_APPEND);
  EXPECT_EQ(b.begin_seq(), 16u);
  EXPECT_EQ(b.end_seq(), 21u);
}

TEST(BatchFraming, DescriptionsNameEachMessage) {
  Batch b = SmallBatch();
  EXPECT_EQ(b.Describe(16), "BATCH_BEGIN seq 16");
  EXPECT_EQ(b.Describe(17), "NEWTABLE seq 17 (table inet qnet)");
  EXPECT_EQ(b.Describe(18), "NEWCHAIN seq 18 (chain fw-10-137-0-12)");
  EXPECT_EQ(b.Describe(19), "DELRULE seq 19 (flush chain fw-10-137-0-12)");
  EXPECT_EQ(b.Describe(20), "NEWRULE seq 20 (chain fw-10-137-0-12)");
  EXPECT_EQ(b.Describe(21), "BATCH_END seq 21");
  EXPECT_EQ(b.Describe(99), "unknown seq 99");
}

TEST(BatchFraming, AppendRenumbersTheOtherBatch) {
  Batch a = SmallBatch();
  Batch b(1);
  b.AddCounter(kTable, CounterObject{"drop-input"});
  a.Append(b);
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a.Describe(21), "NEWOBJ seq 21 (counter drop-input)");
  EXPECT_EQ(Messages(a.Encode()).size(), 7u);
}

TEST(BatchFraming, FlushChainIsDelruleWithOnlyTheChain) {
  Batch b;
  b.FlushChain(kTable, "vpn-forward");
  std::vector<uint8_t> bytes = b.Encode();
  Result<RuleState> r = DecodeRule(Body(bytes).at(0));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rule.chain, "vpn-forward");
  EXPECT_TRUE(r->rule.exprs.empty());
}

TEST(BatchValidation, BadRuleIsRefusedWithItsDescription) {
  Batch b;
  b.AddTable(kTable);
  b.AddRule(kTable, Rule{"fw", Concat(IifName("a-very-long-interface-name"), Accept())});
  b.AddRule(kTable, Rule{"fw", Jump("")});
  ASSERT_FALSE(b.status().ok());
  EXPECT_EQ(b.status().error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(b.status().error().message(),
            "NEWRULE seq 2 (chain fw): expression 1: unsupported expression: iifname "
            "\"a-very-long-interface-name\": an interface name has 1 to 15 bytes");
  EXPECT_EQ(b.size(), 1u);  // both refused rules were dropped
}

TEST(BatchValidation, RefusesJumpWithoutChainAndOversizedData) {
  Batch b;
  b.AddRule(kTable, Rule{"c", Jump("")});
  EXPECT_EQ(b.status().error().message(),
            "NEWRULE seq 1 (chain c): expression 1: jump target chain name is empty");
  Batch c;
  c.AddRule(kTable, Rule{"c", {Cmp{NFT_CMP_EQ, NFT_REG_1, Bytes(65, 1)}}});
  EXPECT_EQ(c.status().error().message(),
            "NEWRULE seq 1 (chain c): expression 1: cmp: 65 bytes exceed 64");
  Batch d;
  d.AddChain(kTable, Chain{"", std::nullopt});
  EXPECT_EQ(d.status().error().message(), "NEWCHAIN seq 1 (chain ): chain name is empty");
}

TEST(BatchValidation, RefusesElementsThatDoNotFitTheSet) {
  Set s{.name = "clients", .key = {DataType::kIpv4Addr}};
  Batch b;
  std::vector<SetElement> els{{.key = {10, 0, 0, 1}}, {.key = {1, 2}}};
  b.AddElements(kTable, s, els);
  EXPECT_EQ(b.status().error().message(),
            "NEWSETELEM seq 1 (set clients, 2 elements): element 2: element key of 2 bytes, set "
            "key has 4");
}

TEST(BatchChains, BaseChainRoundTripsWithHookPriorityPolicy) {
  Chain c{"prerouting", BaseHook{ChainType::kNat, Hook::kPrerouting, -100, Policy::kAccept}};
  Chain d{"input", BaseHook{ChainType::kFilter, Hook::kInput, 0, Policy::kDrop}};
  Batch b;
  b.AddChain(kTable, c);
  b.AddChain(kTable, d);
  std::vector<uint8_t> bytes = b.Encode();
  auto body = Body(bytes);
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(DecodeChain(body[0])->chain, c);
  EXPECT_EQ(DecodeChain(body[1])->chain, d);
}

TEST(BatchCounters, NewobjIsANamedCounter) {
  Batch b;
  b.AddCounter(kTable, CounterObject{"drop-forward"});
  std::vector<uint8_t> bytes = b.Encode();
  auto body = Body(bytes);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(MsgType(body[0]), NFT_MSG_NEWOBJ);
  Result<CounterState> c = DecodeCounter(body[0]);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->name, "drop-forward");
}

TEST(BatchSets, SetDefinitionsRoundTrip) {
  const std::vector<Set> sets = {
      Set{.name = "clients", .key = {DataType::kIpv4Addr}},
      Set{.name = "nets6", .key = {DataType::kIpv6Addr}, .interval = true},
      Set{.name = "fw-v4", .key = {DataType::kIpv4Addr}, .data = DataType::kVerdict},
      Set{.name = "dnat", .key = {DataType::kInetService}, .data = DataType::kIpv4Addr},
      Set{.name = "timed",
          .key = {DataType::kIfname, DataType::kIpv4Addr, DataType::kInetService},
          .interval = true,
          .timeout = true,
          .default_timeout = std::chrono::milliseconds(10000)},
  };
  for (const Set& s : sets) {
    Batch b;
    b.AddSet(kTable, s);
    ASSERT_TRUE(b.status().ok()) << b.status().error().message();
    std::vector<uint8_t> bytes = b.Encode();
    Result<SetState> st = DecodeSet(Body(bytes).at(0));
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->set, s) << s.name;
  }
}

TEST(BatchSets, ConcatKeyLengthAndTypeIdFollowNft) {
  Set s{.name = "x", .key = {DataType::kIpv4Addr, DataType::kInetService}};
  EXPECT_EQ(SetKeyLen(s), 8u);
  EXPECT_EQ(SetKeyTypeId(s), (7u << 6) | 13u);
  EXPECT_EQ(ConcatKey({AddrKey(*IpAddr::Parse("10.0.0.1")), PortKey(53)}),
            (Bytes{10, 0, 0, 1, 0, 53, 0, 0}));
}

// The byte orders nft records in a set's userdata (1 host, 2 big endian)
// for a NEWSET: -1 when absent.
std::pair<int64_t, int64_t> SetByteOrders(const Set& set) {
  Batch b;
  b.AddSet(kTable, set);
  std::vector<uint8_t> bytes = b.Encode();
  auto body = Body(bytes);
  if (body.size() != 1 || MsgType(body[0]) != NFT_MSG_NEWSET) return {-2, -2};
  std::unique_ptr<nftnl_set, decltype(&nftnl_set_free)> s(nftnl_set_alloc(), &nftnl_set_free);
  if (nftnl_set_nlmsg_parse(body[0], s.get()) < 0) return {-3, -3};
  uint32_t len = 0;
  const void* data = nftnl_set_get_data(s.get(), NFTNL_SET_USERDATA, &len);
  std::pair<int64_t, int64_t> out{-1, -1};
  if (data == nullptr) return out;
  const nftnl_udata* tb[NFTNL_UDATA_SET_MAX + 1] = {};
  nftnl_udata_parse(
      data, len,
      [](const nftnl_udata* attr, void* arg) -> int {
        auto* t = static_cast<const nftnl_udata**>(arg);
        if (nftnl_udata_type(attr) <= NFTNL_UDATA_SET_MAX) t[nftnl_udata_type(attr)] = attr;
        return 0;
      },
      tb);
  if (tb[NFTNL_UDATA_SET_KEYBYTEORDER])
    out.first = nftnl_udata_get_u32(tb[NFTNL_UDATA_SET_KEYBYTEORDER]);
  if (tb[NFTNL_UDATA_SET_DATABYTEORDER])
    out.second = nftnl_udata_get_u32(tb[NFTNL_UDATA_SET_DATABYTEORDER]);
  return out;
}

// Without the key byte order, `nft list` prints an ifname element "vif3.0"
// as "" (and a saved listing would load as a set that matches nothing).
TEST(BatchSets, SetsCarryTheByteOrdersNftNeedsToListThem) {
  EXPECT_EQ(SetByteOrders(Set{.name = "vifs", .key = {DataType::kIfname}}),
            (std::pair<int64_t, int64_t>{1, -1}));
  EXPECT_EQ(SetByteOrders(Set{.name = "a", .key = {DataType::kIpv4Addr}}),
            (std::pair<int64_t, int64_t>{2, -1}));
  EXPECT_EQ(
      SetByteOrders(Set{.name = "m", .key = {DataType::kIfname}, .data = DataType::kIpv4Addr}),
      (std::pair<int64_t, int64_t>{1, 2}));
  EXPECT_EQ(
      SetByteOrders(Set{.name = "v", .key = {DataType::kIpv4Addr}, .data = DataType::kVerdict}),
      (std::pair<int64_t, int64_t>{2, -1}));
  // A concatenation has no byte order of its own (nft writes 0): each field
  // is read in its type's order.
  EXPECT_EQ(SetByteOrders(Set{.name = "c", .key = {DataType::kIfname, DataType::kIpv4Addr}}),
            (std::pair<int64_t, int64_t>{0, -1}));
}

TEST(BatchSets, IntervalElementsBecomeStartAndEndAndMergeBack) {
  Set s{.name = "nets", .key = {DataType::kIpv4Addr}, .interval = true};
  std::vector<SetElement> els = {
      {.key = {10, 0, 0, 0}, .key_end = Bytes{10, 255, 255, 255}},
      {.key = {192, 168, 1, 7}},
      {.key = {255, 255, 255, 0}, .key_end = Bytes{255, 255, 255, 255}},
  };
  Batch b;
  b.AddElements(kTable, s, els);
  ASSERT_TRUE(b.status().ok()) << b.status().error().message();
  std::vector<uint8_t> bytes = b.Encode();
  auto body = Body(bytes);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(MsgType(body[0]), NFT_MSG_NEWSETELEM);
  Result<std::vector<SetElement>> back = DecodeSetElements(s, {body[0]});
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, els);
}

TEST(BatchSets, VerdictMapAndConcatRangeElementsRoundTrip) {
  Set vmap{.name = "fw-v4", .key = {DataType::kIpv4Addr}, .data = DataType::kVerdict};
  std::vector<SetElement> v = {
      {.key = {10, 137, 0, 12}, .verdict = Verdict{VerdictCode::kJump, "fw-a"}},
      {.key = {10, 137, 0, 13}, .verdict = Verdict{VerdictCode::kDrop, ""}}};
  Set cr{.name = "cr",
         .key = {DataType::kIpv4Addr, DataType::kInetService},
         .interval = true,
         .timeout = true};
  std::vector<SetElement> c = {{.key = ConcatKey({Bytes{10, 0, 0, 0}, PortKey(53)}),
                                .key_end = ConcatKey({Bytes{10, 255, 255, 255}, PortKey(53)}),
                                .timeout = std::chrono::milliseconds(5000)},
                               {.key = ConcatKey({Bytes{10, 1, 1, 1}, PortKey(80)})}};
  for (auto [set, els] : {std::pair{vmap, v}, std::pair{cr, c}}) {
    Batch b;
    b.AddElements(kTable, set, els);
    ASSERT_TRUE(b.status().ok()) << b.status().error().message();
    std::vector<uint8_t> bytes = b.Encode();
    Result<std::vector<SetElement>> back = DecodeSetElements(set, {Body(bytes).at(0)});
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, els) << set.name;
  }
}

TEST(BatchSets, ManyElementsAreSplitIntoSeveralMessages) {
  Set s{.name = "many", .key = {DataType::kIpv4Addr}};
  std::vector<SetElement> els;
  for (uint32_t i = 0; i < 300; ++i) els.push_back({.key = AddrKey(IpAddr::V4(0x0a000000 + i))});
  Batch b;
  b.AddElements(kTable, s, els);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.Describe(3), "NEWSETELEM seq 3 (set many, 44 elements)");
  std::vector<uint8_t> bytes = b.Encode();
  Result<std::vector<SetElement>> back = DecodeSetElements(s, Body(bytes));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->size(), 300u);
}

TEST(BatchSets, FlushSetIsDelsetelemWithoutElements) {
  Batch b;
  b.FlushSet(kTable, "clients");
  std::vector<uint8_t> bytes = b.Encode();
  auto body = Body(bytes);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(MsgType(body[0]), NFT_MSG_DELSETELEM);
  Result<std::vector<SetElement>> back =
      DecodeSetElements(Set{.name = "clients", .key = {DataType::kIpv4Addr}}, {body[0]});
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->empty());
  EXPECT_EQ(b.Describe(1), "DELSETELEM seq 1 (flush set clients)");
}

}  // namespace
}  // namespace qnet::nft
