#include "qnet/firewall/rule_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "qnet/firewall/rule.h"

namespace qnet::firewall {
namespace {

constexpr int64_t kNow = 1700000000;

struct GoodCase {
  std::string text;
  std::string canonical;
};

class ParseRule_GivesCanonicalForm : public testing::TestWithParam<GoodCase> {};

TEST_P(ParseRule_GivesCanonicalForm, AndRoundTrips) {
  const GoodCase& c = GetParam();
  auto rule = ParseRule(c.text, kNow);
  ASSERT_TRUE(rule.has_value()) << c.text << ": " << rule.error().message();
  EXPECT_EQ(FormatRule(*rule), c.canonical);
  auto again = ParseRule(FormatRule(*rule), kNow);
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(*again, *rule);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ParseRule_GivesCanonicalForm,
    testing::Values(GoodCase{"accept", "action=accept"}, GoodCase{"drop", "action=drop"},
                    GoodCase{"action=accept", "action=accept"},
                    // Positional: ACTION DSTHOST PROTO DSTPORTS|ICMPTYPE.
                    GoodCase{"accept 10.0.0.1", "action=accept dst4=10.0.0.1/32"},
                    GoodCase{"accept 10.0.0.0/8 tcp 443",
                             "action=accept proto=tcp dst4=10.0.0.0/8 dstports=443-443"},
                    GoodCase{"drop fd00::/8 udp 8000-8080",
                             "action=drop proto=udp dst6=fd00::/8 dstports=8000-8080"},
                    GoodCase{"accept example.com icmp 8",
                             "action=accept proto=icmp dsthost=example.com icmptype=8"},
                    GoodCase{"accept 2001:db8::1", "action=accept dst6=2001:db8::1/128"},
                    GoodCase{"accept dst4=10.0.0.0/8", "action=accept dst4=10.0.0.0/8"},
                    GoodCase{"accept dst6=2001:0db8:0::/64", "action=accept dst6=2001:db8::/64"},
                    // Mixed: keywords remove their field from the positional order.
                    GoodCase{"dsthost=web.lab accept tcp 80",
                             "action=accept proto=tcp dsthost=web.lab dstports=80-80"},
                    GoodCase{"proto=icmp accept 10.0.0.1 3",
                             "action=accept proto=icmp dst4=10.0.0.1/32 icmptype=3"},
                    GoodCase{"accept proto=tcp 10.0.0.1 22",
                             "action=accept proto=tcp dst4=10.0.0.1/32 dstports=22-22"},
                    GoodCase{"accept specialtarget=dns", "action=accept specialtarget=dns"},
                    GoodCase{"accept dstports=53 proto=udp specialtarget=dns",
                             "action=accept proto=udp dstports=53-53 specialtarget=dns"},
                    GoodCase{"accept   0.0.0.0/0\t tcp", "action=accept proto=tcp dst4=0.0.0.0/0"},
                    GoodCase{"drop dsthost=a-b-c.example.", "action=drop dsthost=a-b-c.example."},
                    GoodCase{"drop dsthost=1and1.example", "action=drop dsthost=1and1.example"},
                    GoodCase{"accept icmptype=0 proto=icmp", "action=accept proto=icmp icmptype=0"},
                    GoodCase{"accept tcp", "action=accept dsthost=tcp"},  // as in Qubes: a hostname
                    GoodCase{"accept dstports=0-65535 proto=tcp",
                             "action=accept proto=tcp dstports=0-65535"},
                    // Expire: absolute, or +N from now.
                    GoodCase{"accept expire=1700000300", "action=accept expire=1700000300"},
                    GoodCase{"accept expire=+300", "action=accept expire=1700000300"},
                    // Comment takes the rest of the line.
                    GoodCase{"accept comment=hello world: [1] a,b;c/d_e-f.",
                             "action=accept comment=hello world: [1] a,b;c/d_e-f."},
                    GoodCase{"accept comment=", "action=accept"},
                    GoodCase{"drop 10.0.0.1 comment=  spaced out ",
                             "action=drop dst4=10.0.0.1/32 comment=  spaced out "},
                    GoodCase{"accept\n", "action=accept"}));

struct BadCase {
  std::string text;
  std::string error;
};

class ParseRule_RefusesBadInput : public testing::TestWithParam<BadCase> {};

TEST_P(ParseRule_RefusesBadInput, WithFieldNamedInError) {
  const BadCase& c = GetParam();
  auto rule = ParseRule(c.text, kNow);
  ASSERT_FALSE(rule.has_value()) << c.text << " parsed as " << FormatRule(*rule);
  EXPECT_EQ(rule.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(rule.error().message(), c.error);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ParseRule_RefusesBadInput,
    testing::Values(
        BadCase{"", "action: missing"}, BadCase{"dsthost=10.0.0.1", "action: missing"},
        BadCase{"allow", "action: 'allow' is not accept or drop"},
        BadCase{"accept action=drop", "action: given twice"},
        BadCase{"accept dsthost=x.example dst4=10.0.0.1", "dst4: destination given twice"},
        BadCase{"accept proto=tcp proto=udp", "proto: given twice"},
        BadCase{"accept foo=bar",
                "foo: unknown option (known: action, dsthost, dst4, dst6, proto, dstports, "
                "icmptype, specialtarget, expire, comment)"},
        BadCase{"accept dstname=x",
                "dstname: unknown option (known: action, dsthost, dst4, dst6, proto, dstports, "
                "icmptype, specialtarget, expire, comment)"},
        BadCase{"accept proto=sctp", "proto: 'sctp' is not tcp, udp or icmp"},
        BadCase{"accept 10.0.0.1 tcp 99999", "dstports: port 99999 out of range 0-65535"},
        BadCase{"accept dstports=65536 proto=tcp", "dstports: port 65536 out of range 0-65535"},
        BadCase{"accept proto=tcp dstports=8080-80",
                "dstports: range 8080-80: first port above last"},
        BadCase{"accept proto=tcp dstports=1-2-3",
                "dstports: '1-2-3' is not a port or port range (443 or 8000-8080)"},
        BadCase{"accept proto=tcp dstports=http",
                "dstports: 'http' is not a port or port range (443 or 8000-8080)"},
        BadCase{"accept proto=tcp dstports=-5",
                "dstports: '-5' is not a port or port range (443 or 8000-8080)"},
        BadCase{"accept dstports=443", "dstports: valid only with proto=tcp or proto=udp"},
        BadCase{"accept proto=icmp dstports=443",
                "dstports: valid only with proto=tcp or proto=udp"},
        BadCase{"accept icmptype=8", "icmptype: valid only with proto=icmp"},
        BadCase{"accept proto=udp icmptype=8", "icmptype: valid only with proto=icmp"},
        BadCase{"accept proto=icmp icmptype=256", "icmptype: type 256 out of range 0-255"},
        BadCase{"accept proto=icmp icmptype=echo", "icmptype: 'echo' is not a number"},
        BadCase{"accept 10.0.0.1 tcp 80 extra",
                "extra: one value too many for ACTION [DSTHOST [PROTO [DSTPORTS|ICMPTYPE]]]"},
        BadCase{"accept 10.0.0.1 icmp 8 9",
                "9: one value too many for ACTION [DSTHOST [PROTO [DSTPORTS|ICMPTYPE]]]"},
        BadCase{"accept specialtarget=dnsx", "specialtarget: 'dnsx' is not supported (only dns)"},
        BadCase{"accept dst4=fd00::1", "dst4: 'fd00::1' is not an IPv4 address or network"},
        BadCase{"accept dst6=10.0.0.0/8", "dst6: '10.0.0.0/8' is not an IPv6 address or network"},
        BadCase{"accept dst4=example.com", "dst4: 'example.com' is not an IP address"},
        BadCase{"accept 10.0.0.0/33", "dsthost: prefix length 33 out of range 0-32 for IPv4"},
        BadCase{"accept fd00::/129", "dsthost: prefix length 129 out of range 0-128 for IPv6"},
        BadCase{"accept 10.0.0.0/8/9", "dsthost: prefix length '8/9' is not a number"},
        BadCase{"accept 10.0.0.0/x", "dsthost: prefix length 'x' is not a number"},
        BadCase{"accept 300.1.1.1", "dsthost: '300.1.1.1' is not an IP address"},
        BadCase{"accept 10.1.1", "dsthost: '10.1.1' is not an IP address"},
        BadCase{"accept example.com/24", "dsthost: 'example.com' is not an IP address"},
        BadCase{"accept Example.com", "dsthost: hostname 'Example.com' must be lowercase"},
        BadCase{"accept exa;mple.com",
                "dsthost: character ';' not allowed in a hostname (RFC 1123: letters, digits, '-' "
                "and '.')"},
        BadCase{"accept a_b.example",
                "dsthost: character '_' not allowed in a hostname (RFC 1123: letters, digits, '-' "
                "and '.')"},
        BadCase{"accept dsthost=-web.lab",
                "dsthost: '-web.lab' is not a hostname (RFC 1123: a label starts and ends with a "
                "letter or digit)"},
        BadCase{"accept web-.lab",
                "dsthost: 'web-.lab' is not a hostname (RFC 1123: a label starts and ends with a "
                "letter or digit)"},
        BadCase{"accept accept",
                "dsthost: 'accept' is an action, not a hostname (one action per rule)"},
        BadCase{"drop dsthost=drop",
                "dsthost: 'drop' is an action, not a hostname (one action per rule)"},
        BadCase{"accept dsthost=0xcb00710a",
                "dsthost: '0xcb00710a' is not a hostname (resolvers read it as the IPv4 address "
                "203.0.113.10: write dst4=203.0.113.10)"},
        BadCase{"accept 0xcb.0x0.0x71.0xa",
                "dsthost: '0xcb.0x0.0x71.0xa' is not a hostname (resolvers read it as the IPv4 "
                "address 203.0.113.10: write dst4=203.0.113.10)"},
        BadCase{"accept dst4=203.0.113.10/24",
                "dst4: 203.0.113.10/24 has host bits set (the network is 203.0.113.0/24)"},
        BadCase{"accept 203.0.113.10/24",
                "dsthost: 203.0.113.10/24 has host bits set (the network is 203.0.113.0/24)"},
        BadCase{"accept dst6=2001:db8::1/64",
                "dst6: 2001:db8::1/64 has host bits set (the network is 2001:db8::/64)"},
        BadCase{"accept a..b", "dsthost: 'a..b' is not a hostname (labels of 1-63 characters)"},
        BadCase{"accept dsthost=", "dsthost: empty value"},
        BadCase{"accept dsthost=a$b",
                "dsthost: character '$' not allowed (letters, digits and :;,./-_[] only)"},
        BadCase{"accept dsthost=a\x01",
                "dsthost: character \\x01 not allowed (letters, digits and :;,./-_[] only)"},
        BadCase{"accept expire=soon", "expire: 'soon' is not a unix time or +SECONDS"},
        BadCase{"accept expire=-5", "expire: '-5' is not a unix time or +SECONDS"},
        BadCase{"accept expire=+", "expire: '+' is not a unix time or +SECONDS"},
        BadCase{"accept expire=99999999999999", "expire: '99999999999999' is after the year 9999"},
        BadCase{"accept comment=" + std::string(257, 'c'),
                "comment: 257 characters, at most 256 allowed"},
        BadCase{"accept comment=" + std::string(100000, 'c'),
                "comment: 100000 characters, at most 256 allowed"},
        BadCase{"accept comment=semi=colon",
                "comment: character '=' not allowed (letters, digits, spaces and :;,./-_[] only)"},
        BadCase{"accept comment=tab\there",
                "comment: character \\x09 not allowed (letters, digits, spaces and :;,./-_[] "
                "only)"}));

TEST(ParseNumberedRule, ErrorNamesRuleNumberTextAndField) {
  auto rule = ParseNumberedRule(3, "accept dsthost=x proto=tcp dstports=99999", kNow);
  ASSERT_FALSE(rule.has_value());
  EXPECT_EQ(rule.error().message(),
            "rule 3 (accept dsthost=x proto=tcp dstports=99999): dstports: port 99999 out of "
            "range 0-65535");
}

TEST(ParseNumberedRule, ErrorShowsControlCharactersAsQuestionMarks) {
  auto rule = ParseNumberedRule(0, "accept\x1b[2J foo", kNow);
  ASSERT_FALSE(rule.has_value());
  EXPECT_EQ(rule.error().message().substr(0, 23), "rule 0 (accept?[2J foo)");
}

TEST(ParseRule, IcmpWithIpv6DestinationIsIcmpv6) {
  auto rule = ParseRule("accept fd09:24ef:4179::1 icmp 128", kNow);
  ASSERT_TRUE(rule.has_value());
  EXPECT_TRUE(IsIpv6Destination(*rule));
  EXPECT_EQ(rule->proto, Proto::kIcmp);
  EXPECT_EQ(rule->icmptype, 128);
}

TEST(ParseRule, RelativeExpireCountsFromInjectedNow) {
  auto a = ParseRule("accept expire=+60", 1000);
  auto b = ParseRule("accept expire=+60", 2000);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->expire, 1060);
  EXPECT_EQ(b->expire, 2060);
  EXPECT_FALSE(IsExpired(*a, 1059));
  EXPECT_TRUE(IsExpired(*a, 1060));
}

TEST(Validate, RefusesHandBuiltRuleWithPortsButNoProtocol) {
  Rule r{.action = Action::kAccept, .dstports = PortRange{80, 80}};
  Status s = Validate(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "dstports: valid only with proto=tcp or proto=udp");
}

TEST(Validate, RefusesEmptyComment) {
  Rule r{.action = Action::kAccept, .comment = std::string()};
  ASSERT_FALSE(Validate(r).ok());
}

}  // namespace
}  // namespace qnet::firewall
