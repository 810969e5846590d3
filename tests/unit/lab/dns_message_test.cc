#include "qnet/lab/dns_message.h"

#include <gtest/gtest.h>

#include "dns_test_util.h"

namespace qnet::lab {
namespace {

using testing::MakeQuery;

TEST(DnsMessage, ParseQuery_ReadsIdFlagsNameTypeAndClass) {
  auto msg = MakeQuery(0xBEEF, "web.lab", kTypeAaaa);
  auto q = ParseQuery(msg);
  ASSERT_TRUE(q.has_value()) << q.error().message();
  EXPECT_EQ(q->header.id, 0xBEEF);
  EXPECT_TRUE(q->header.rd());
  EXPECT_EQ(q->header.opcode(), 0);
  EXPECT_EQ(q->question.name, (DnsName{"web", "lab"}));
  EXPECT_EQ(q->question.qtype, kTypeAaaa);
  EXPECT_EQ(q->question.qclass, kClassIn);
}

TEST(DnsMessage, ParseQuery_IgnoresAdditionalRecordsAfterQuestion) {
  auto msg = MakeQuery(1, "web.lab", kTypeA);
  msg[11] = 1;  // ARCOUNT 1: an EDNS OPT record
  std::vector<uint8_t> opt = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
  msg.insert(msg.end(), opt.begin(), opt.end());
  EXPECT_TRUE(ParseQuery(msg).has_value());
}

TEST(DnsMessage, ParseName_FollowsBackwardCompressionPointer) {
  // "lab" at 0, then "web" + pointer to 0 at 5.
  std::vector<uint8_t> msg = {3, 'l', 'a', 'b', 0, 3, 'w', 'e', 'b', 0xC0, 0x00, 0xAA};
  size_t off = 5;
  auto name = ParseName(msg, &off);
  ASSERT_TRUE(name.has_value()) << name.error().message();
  EXPECT_EQ(*name, (DnsName{"web", "lab"}));
  EXPECT_EQ(off, 11u);  // just past the pointer, not past the target
}

TEST(DnsMessage, ParseName_RejectsPointerToItself) {
  std::vector<uint8_t> msg = {0xC0, 0x00};
  size_t off = 0;
  auto name = ParseName(msg, &off);
  ASSERT_FALSE(name.has_value());
  EXPECT_NE(name.error().message().find("does not point backwards"), std::string::npos);
}

TEST(DnsMessage, ParseName_RejectsForwardPointer) {
  std::vector<uint8_t> msg = {0xC0, 0x02, 0xC0, 0x00};
  size_t off = 0;
  EXPECT_FALSE(ParseName(msg, &off).has_value());
}

TEST(DnsMessage, ParseName_RejectsLoopThroughLabelsWithoutHanging) {
  // "a" then a pointer back to the "a": every lap adds a label, forever.
  std::vector<uint8_t> msg = {1, 'a', 0xC0, 0x00};
  size_t off = 0;
  auto name = ParseName(msg, &off);
  ASSERT_FALSE(name.has_value());
  EXPECT_NE(name.error().message().find("255"), std::string::npos);
}

TEST(DnsMessage, ParseName_RejectsLabelLongerThan63) {
  std::vector<uint8_t> msg(1 + 64 + 1, 'x');
  msg[0] = 64;  // 0x40: the reserved "extended label" type
  msg.back() = 0;
  size_t off = 0;
  auto name = ParseName(msg, &off);
  ASSERT_FALSE(name.has_value());
  EXPECT_NE(name.error().message().find("label type"), std::string::npos);
}

TEST(DnsMessage, ParseName_RejectsNameLongerThan255) {
  std::vector<uint8_t> msg;
  for (int i = 0; i < 5; ++i) {
    msg.push_back(63);
    msg.insert(msg.end(), 63, 'x');
  }
  msg.push_back(0);
  size_t off = 0;
  EXPECT_FALSE(ParseName(msg, &off).has_value());
}

TEST(DnsMessage, ParseQuery_RejectsTruncatedMessages) {
  auto full = MakeQuery(7, "web.lab", kTypeA);
  // Every proper prefix: inside the header, inside a label, before the type.
  for (size_t len = 0; len < full.size(); ++len) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(len));
    EXPECT_FALSE(ParseQuery(cut).has_value()) << "length " << len;
  }
}

TEST(DnsMessage, ParseQuery_RejectsResponsesAndQuestionCountsOtherThanOne) {
  EXPECT_FALSE(ParseQuery(MakeQuery(1, "web.lab", kTypeA, 0x8000)).has_value());
  auto two = MakeQuery(1, "web.lab", kTypeA);
  two[5] = 2;
  EXPECT_FALSE(ParseQuery(two).has_value());
  auto none = MakeQuery(1, "web.lab", kTypeA);
  none[5] = 0;
  EXPECT_FALSE(ParseQuery(none).has_value());
}

TEST(DnsMessage, BuildResponse_SetsHeaderBitsEchoesQuestionAndEncodesAnswer) {
  DnsResponse r;
  r.id = 0x1234;
  r.rd = true;
  r.question = DnsQuestion{{"web", "lab"}, kTypeA, kClassIn};
  r.answers.push_back({{"web", "lab"}, kTypeA, 300, {203, 0, 113, 10}});
  auto bytes = BuildResponse(r);
  auto d = testing::Decode(bytes);
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.header.id, 0x1234);
  EXPECT_TRUE(d.header.qr());
  EXPECT_TRUE(d.aa());
  EXPECT_FALSE(d.ra());
  EXPECT_TRUE(d.header.rd());
  EXPECT_EQ(d.rcode(), kRcodeNoError);
  ASSERT_TRUE(d.has_question);
  EXPECT_EQ(NameToText(d.question.name), "web.lab");
  ASSERT_EQ(d.answers.size(), 1u);
  EXPECT_EQ(d.answers[0].ttl, 300u);
  EXPECT_EQ(d.answers[0].rdata, (std::vector<uint8_t>{203, 0, 113, 10}));
}

TEST(DnsMessage, BuildResponse_DropsAnswersAndSetsTcWhenTooLarge) {
  DnsResponse r;
  r.question = DnsQuestion{{"web", "lab"}, kTypeA, kClassIn};
  for (int i = 0; i < 40; ++i) r.answers.push_back({{"web", "lab"}, kTypeA, 60, {10, 0, 0, 1}});
  auto d = testing::Decode(BuildResponse(r, kMaxUdpResponse));
  ASSERT_TRUE(d.ok);
  EXPECT_TRUE(d.tc());
  EXPECT_TRUE(d.answers.empty());
  EXPECT_TRUE(d.has_question);
}

TEST(DnsMessage, NameToText_EscapesBytesThatWouldBreakALogLine) {
  EXPECT_EQ(NameToText(DnsName{"a b", "c.d", "e\n"}), "a\\032b.c\\.d.e\\010");
  EXPECT_EQ(NameToText(DnsName{}), ".");
  EXPECT_EQ(NameKey(DnsName{"WeB", "LAB"}), "web.lab");
}

TEST(DnsMessage, NameFromText_AcceptsTrailingDotAndRejectsBadNames) {
  EXPECT_EQ(*NameFromText("web.lab."), (DnsName{"web", "lab"}));
  EXPECT_FALSE(NameFromText("web..lab").has_value());
  EXPECT_FALSE(NameFromText(std::string(64, 'x') + ".lab").has_value());
  EXPECT_FALSE(NameFromText("we b.lab").has_value());
}

TEST(DnsMessage, TypeName_NamesKnownTypesAndNumbersOthers) {
  EXPECT_EQ(TypeName(kTypeA), "A");
  EXPECT_EQ(TypeName(kTypeAaaa), "AAAA");
  EXPECT_EQ(TypeName(999), "TYPE999");
}

}  // namespace
}  // namespace qnet::lab
