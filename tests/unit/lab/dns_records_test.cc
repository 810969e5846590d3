#include "qnet/lab/dns_records.h"

#include <gtest/gtest.h>

namespace qnet::lab {
namespace {

const RecordEntry* Only(const RecordSet& set, std::string_view key) {
  const auto* list = set.Find(key);
  return list != nullptr && list->size() == 1 ? &list->front() : nullptr;
}

TEST(DnsRecords, ParseRecords_ReadsEachTypeWithTtlOrDefault) {
  auto set = ParseRecords(
      "# the lab\n"
      "web.lab A 203.0.113.10 300\n"
      "\n"
      "web6.lab AAAA 2001:db8:2::10   # trailing comment\n"
      "www.lab\tCNAME\tweb.lab. 5\n",
      "records.txt");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  EXPECT_EQ(set->name_count(), 3u);
  const auto* a = Only(*set, "web.lab");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->type, kTypeA);
  EXPECT_EQ(a->ttl, 300u);
  EXPECT_EQ(a->rdata, (std::vector<uint8_t>{203, 0, 113, 10}));
  const auto* aaaa = Only(*set, "web6.lab");
  ASSERT_NE(aaaa, nullptr);
  EXPECT_EQ(aaaa->type, kTypeAaaa);
  EXPECT_EQ(aaaa->ttl, kDefaultTtl);
  EXPECT_EQ(aaaa->rdata.size(), 16u);
  const auto* cname = Only(*set, "www.lab");
  ASSERT_NE(cname, nullptr);
  EXPECT_EQ(cname->type, kTypeCname);
  EXPECT_EQ(cname->target, (DnsName{"web", "lab"}));
}

TEST(DnsRecords, ParseRecords_StoresNamesCaseInsensitiveWithoutTrailingDot) {
  auto set = ParseRecords("Web.LAB. a 10.0.0.1\n", "r");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  EXPECT_NE(set->Find("web.lab"), nullptr);
}

TEST(DnsRecords, ParseRecords_AllowsSeveralAddressesForOneName) {
  auto set = ParseRecords("web.lab A 10.0.0.1\nweb.lab A 10.0.0.2\nweb.lab AAAA fd00::1\n", "r");
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(set->Find("web.lab")->size(), 3u);
}

struct BadLine {
  const char* text;
  const char* message;  // the whole error text, "FILE:LINE: reason"
};

class DnsRecordsBadLine : public ::testing::TestWithParam<BadLine> {};

TEST_P(DnsRecordsBadLine, ParseRecords_FailsNamingFileAndLine) {
  auto set = ParseRecords(GetParam().text, "/etc/lab/records.txt");
  ASSERT_FALSE(set.has_value());
  EXPECT_EQ(set.error().message(), GetParam().message);
  EXPECT_EQ(set.error().code(), Errc::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, DnsRecordsBadLine,
    ::testing::Values(
        BadLine{"ok.lab A 10.0.0.1\n# c\nweb.lab MX 10.0.0.1\n",
                "/etc/lab/records.txt:3: unknown type 'MX' (want A, AAAA or CNAME)"},
        BadLine{"web.lab A 2001:db8::1\n",
                "/etc/lab/records.txt:1: invalid IPv4 address '2001:db8::1'"},
        BadLine{"web.lab AAAA 10.0.0.1\n",
                "/etc/lab/records.txt:1: invalid IPv6 address '10.0.0.1'"},
        BadLine{"web.lab A 999.0.0.1\n",
                "/etc/lab/records.txt:1: invalid IPv4 address '999.0.0.1'"},
        BadLine{"\n\nweb.lab A 10.0.0.1 soon\n", "/etc/lab/records.txt:3: invalid TTL 'soon'"},
        BadLine{"web.lab A 10.0.0.1 4294967296\n",
                "/etc/lab/records.txt:1: invalid TTL '4294967296'"},
        BadLine{"web.lab A\n",
                "/etc/lab/records.txt:1: want 'NAME TYPE VALUE [TTL]', got 2 fields"},
        BadLine{"web.lab A 10.0.0.1 60 extra\n",
                "/etc/lab/records.txt:1: want 'NAME TYPE VALUE [TTL]', got 5 fields"},
        BadLine{"we$b.lab A 10.0.0.1\n",
                "/etc/lab/records.txt:1: invalid character in name 'we$b.lab'"},
        BadLine{"web..lab A 10.0.0.1\n", "/etc/lab/records.txt:1: empty label in name 'web..lab'"},
        BadLine{"www.lab CNAME web.lab\nwww.lab A 10.0.0.1\n",
                "/etc/lab/records.txt:2: 'www.lab' has a CNAME and other records"},
        BadLine{"www.lab CNAME bad..lab\n",
                "/etc/lab/records.txt:1: CNAME target: empty label in name 'bad..lab'"}));

TEST(DnsRecords, LoadRecords_NamesTheMissingPath) {
  auto set = LoadRecords("/nonexistent/qnet-lab/records.txt");
  ASSERT_FALSE(set.has_value());
  EXPECT_NE(set.error().message().find("/nonexistent/qnet-lab/records.txt"), std::string::npos);
}

}  // namespace
}  // namespace qnet::lab
