#include "qnet/lab/dns_resolver.h"

#include <gtest/gtest.h>

#include "dns_test_util.h"

namespace qnet::lab {
namespace {

using testing::Decode;
using testing::MakeQuery;

RecordSet LabRecords() {
  auto set = ParseRecords(
      "web.lab A 203.0.113.10 300\n"
      "web.lab AAAA 2001:db8:2::10\n"
      "v4only.lab A 203.0.113.11\n"
      "www.lab CNAME web.lab 30\n"
      "loop1.lab CNAME loop2.lab\n"
      "loop2.lab CNAME loop1.lab\n",
      "records");
  EXPECT_TRUE(set.has_value());
  return set.has_value() ? *set : RecordSet();
}

testing::DecodedResponse Ask(const std::vector<uint8_t>& query) {
  auto ex = AnswerMessage(query, LabRecords(), kMaxUdpResponse);
  return Decode(ex.reply);
}

TEST(DnsResolver, AnswersAFromRecordsAuthoritativelyWithoutRecursion) {
  auto r = Ask(MakeQuery(42, "web.lab", kTypeA));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.header.id, 42);
  EXPECT_EQ(r.rcode(), kRcodeNoError);
  EXPECT_TRUE(r.aa());
  EXPECT_FALSE(r.ra());
  ASSERT_TRUE(r.has_question);
  EXPECT_EQ(NameToText(r.question.name), "web.lab");
  EXPECT_EQ(r.question.qtype, kTypeA);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].type, kTypeA);
  EXPECT_EQ(r.answers[0].ttl, 300u);
  EXPECT_EQ(r.answers[0].rdata, (std::vector<uint8_t>{203, 0, 113, 10}));
}

TEST(DnsResolver, MatchesNamesCaseInsensitivelyAndEchoesTheQueryCase) {
  auto r = Ask(MakeQuery(1, "WeB.LaB", kTypeAaaa));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(NameToText(r.question.name), "WeB.LaB");
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].type, kTypeAaaa);
  EXPECT_EQ(r.answers[0].ttl, kDefaultTtl);
}

TEST(DnsResolver, UnknownNameIsNxdomain) {
  auto r = Ask(MakeQuery(1, "nope.lab", kTypeA));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rcode(), kRcodeNxDomain);
  EXPECT_TRUE(r.aa());
  EXPECT_TRUE(r.answers.empty());
}

TEST(DnsResolver, KnownNameWithoutThatTypeIsNoErrorAndEmpty) {
  auto r = Ask(MakeQuery(1, "v4only.lab", kTypeAaaa));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rcode(), kRcodeNoError);
  EXPECT_TRUE(r.answers.empty());
}

TEST(DnsResolver, FollowsCnameToTheTargetsAddress) {
  auto r = Ask(MakeQuery(1, "www.lab", kTypeA));
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(r.answers[0].type, kTypeCname);
  EXPECT_EQ(r.answers[0].name, "www.lab");
  EXPECT_EQ(r.answers[0].ttl, 30u);
  EXPECT_EQ(r.answers[1].type, kTypeA);
  EXPECT_EQ(r.answers[1].name, "web.lab");
}

TEST(DnsResolver, CnameLoopEndsAfterBoundedHops) {
  auto r = Ask(MakeQuery(1, "loop1.lab", kTypeA));
  ASSERT_TRUE(r.ok);
  EXPECT_LE(r.answers.size(), 9u);
  EXPECT_GT(r.answers.size(), 0u);
}

TEST(DnsResolver, MalformedQueryGetsFormerrWithTheSameId) {
  auto q = MakeQuery(0x7777, "web.lab", kTypeA);
  q[12] = 0x80;  // reserved label type
  auto ex = AnswerMessage(q, LabRecords(), kMaxUdpResponse);
  EXPECT_EQ(ex.qname, "-");
  auto r = Decode(ex.reply);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.header.id, 0x7777);
  EXPECT_EQ(r.rcode(), kRcodeFormErr);
  EXPECT_FALSE(r.has_question);
}

TEST(DnsResolver, OpcodesOtherThanQueryAreRefused) {
  for (uint16_t opcode : {1, 2, 4, 5}) {
    auto ex = AnswerMessage(MakeQuery(9, "web.lab", kTypeA, static_cast<uint16_t>(opcode << 11)),
                            LabRecords(), kMaxUdpResponse);
    auto r = Decode(ex.reply);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.rcode(), kRcodeRefused) << "opcode " << opcode;
    EXPECT_EQ(r.header.opcode(), opcode);
    EXPECT_TRUE(r.answers.empty());
  }
}

TEST(DnsResolver, NoReplyToResponsesOrFragments) {
  EXPECT_TRUE(
      AnswerMessage(MakeQuery(1, "web.lab", kTypeA, 0x8000), LabRecords(), 512).reply.empty());
  std::vector<uint8_t> fragment = {1, 2, 3};
  EXPECT_TRUE(AnswerMessage(fragment, LabRecords(), 512).reply.empty());
}

TEST(DnsResolver, ReportsNameAndTypeForTheQueryLog) {
  auto ex = AnswerMessage(MakeQuery(1, "Web.lab", kTypeAaaa), LabRecords(), 512);
  EXPECT_EQ(ex.qname, "Web.lab");
  EXPECT_EQ(ex.qtype, "AAAA");
}

TEST(DnsResolver, ClassOtherThanInIsRefused) {
  auto r = Ask(MakeQuery(1, "web.lab", 16, 0x0100, 3));  // CH TXT
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rcode(), kRcodeRefused);
}

}  // namespace
}  // namespace qnet::lab
