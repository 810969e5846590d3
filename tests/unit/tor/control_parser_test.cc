#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "qnet/tor/control_reply.h"

namespace qnet::tor {
namespace {

// A session as tor writes it: PROTOCOLINFO, an event between replies, a
// GETINFO with a dot-stuffed data body, an error reply.
constexpr std::string_view kTranscript =
    "250-PROTOCOLINFO 1\r\n"
    "250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE=\"/run/tor/control.authcookie\"\r\n"
    "250-VERSION Tor=\"0.4.9.11\"\r\n"
    "250 OK\r\n"
    "650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"\r\n"
    "250+config-text=\r\n"
    "SocksPort 9050\r\n"
    "..hidden line\r\n"
    "\r\n"
    "Log notice stdout\r\n"
    ".\r\n"
    "250-version=0.4.9.11\r\n"
    "250 OK\r\n"
    "552 Unrecognized key \"nope\"\r\n";

std::vector<Reply> Expected() {
  return {
      Reply{250,
            {{LineKind::kMid, "PROTOCOLINFO 1", ""},
             {LineKind::kMid,
              "AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE=\"/run/tor/control.authcookie\"", ""},
             {LineKind::kMid, "VERSION Tor=\"0.4.9.11\"", ""},
             {LineKind::kEnd, "OK", ""}}},
      Reply{650,
            {{LineKind::kEnd,
              "STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"", ""}}},
      Reply{250,
            {{LineKind::kData, "config-text=", "SocksPort 9050\n.hidden line\n\nLog notice stdout"},
             {LineKind::kMid, "version=0.4.9.11", ""},
             {LineKind::kEnd, "OK", ""}}},
      Reply{552, {{LineKind::kEnd, "Unrecognized key \"nope\"", ""}}},
  };
}

std::vector<Reply> Drain(ReplyParser& p) {
  std::vector<Reply> out;
  while (auto r = p.Next()) out.push_back(std::move(*r));
  return out;
}

TEST(ReplyParser, EverySplitPointOfATranscriptGivesTheSameReplies) {
  for (size_t cut = 0; cut <= kTranscript.size(); ++cut) {
    ReplyParser p;
    ASSERT_TRUE(p.Feed(kTranscript.substr(0, cut)).ok()) << cut;
    ASSERT_TRUE(p.Feed(kTranscript.substr(cut)).ok()) << cut;
    EXPECT_EQ(Drain(p), Expected()) << "split at " << cut;
    EXPECT_TRUE(p.Finish().ok());
  }
}

TEST(ReplyParser, EveryTwoSplitPointsAndByteByByteGiveTheSameReplies) {
  for (size_t a = 0; a <= kTranscript.size(); a += 7) {
    for (size_t b = a; b <= kTranscript.size(); b += 5) {
      ReplyParser p;
      ASSERT_TRUE(p.Feed(kTranscript.substr(0, a)).ok());
      ASSERT_TRUE(p.Feed(kTranscript.substr(a, b - a)).ok());
      ASSERT_TRUE(p.Feed(kTranscript.substr(b)).ok());
      ASSERT_EQ(Drain(p), Expected()) << a << "," << b;
    }
  }
  ReplyParser p;
  for (char c : kTranscript) ASSERT_TRUE(p.Feed(std::string_view(&c, 1)).ok());
  EXPECT_EQ(Drain(p), Expected());
}

TEST(ReplyParser, RepliesAppearOnlyWhenTheirEndLineIsComplete) {
  ReplyParser p;
  ASSERT_TRUE(p.Feed("250-version=1\r\n250 OK").ok());
  EXPECT_FALSE(p.Next().has_value());
  EXPECT_FALSE(p.Finish().ok());
  ASSERT_TRUE(p.Feed("\r\n").ok());
  EXPECT_TRUE(p.Next().has_value());
  EXPECT_TRUE(p.Finish().ok());
}

struct BadCase {
  const char* name;
  std::string input;
  const char* message;
};

TEST(ReplyParser, MalformedOrHostileInputIsAnErrorThatSticks) {
  ReplyLimits small;
  small.max_line = 64;
  small.max_reply_bytes = 200;
  small.max_lines = 5;
  const std::vector<BadCase> cases = {
      {"overlong line", "250 " + std::string(100, 'a') + "\r\n", "line longer than 64"},
      {"overlong without newline", std::string(100, 'a'), "line longer than 64"},
      {"bad code letters", "25x OK\r\n", "bad status line"},
      {"code 1xx", "150 OK\r\n", "bad status line"},
      {"code 3xx", "354 OK\r\n", "bad status line"},
      {"short line", "250\r\n", "bad status line"},
      {"bad separator", "250*OK\r\n", "bad separator"},
      {"code changes mid-reply", "250-a=b\r\n251 OK\r\n", "changed from 250 to 251"},
      {"event inside a reply", "250-a=b\r\n650 CIRC 1 BUILT\r\n", "changed from 250 to 650"},
      {"bare LF", "250 OK\n", "LF without CR"},
      {"NUL byte", std::string("250 O\0K\r\n", 9), "control byte 0x00"},
      {"bare CR inside", "250 O\rK\r\n", "control byte 0x0d"},
      {"too many lines", "250-a\r\n250-a\r\n250-a\r\n250-a\r\n250-a\r\n250-a\r\n",
       "longer than 5 lines"},
      {"reply too large",
       "250+d=\r\n" + std::string(60, 'x') + "\r\n" + std::string(60, 'x') + "\r\n" +
           std::string(60, 'x') + "\r\n" + std::string(60, 'x') + "\r\n",
       "larger than 200 bytes"},
  };
  for (const BadCase& c : cases) {
    ReplyParser p(small);
    Status s = p.Feed(c.input);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.error().code(), Errc::kProtocol) << c.name;
    EXPECT_NE(s.error().message().find(c.message), std::string::npos)
        << c.name << ": " << s.error().message();
    // Sticky: well-formed input afterwards is refused too.
    EXPECT_FALSE(p.Feed("250 OK\r\n").ok()) << c.name;
    EXPECT_FALSE(p.Next().has_value()) << c.name;
  }
  // Positive control: the same limits accept a reply inside them.
  ReplyParser p(small);
  ASSERT_TRUE(p.Feed("250-a=b\r\n250+d=\r\nxx\r\n.\r\n250 OK\r\n").ok());
  EXPECT_TRUE(p.Next().has_value());
}

TEST(ReplyParser, UnterminatedDataIsAnErrorAtTheEndOfTheStream) {
  ReplyParser p;
  ASSERT_TRUE(p.Feed("250+config-text=\r\nSocksPort 9050\r\n").ok());
  Status s = p.Finish();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("inside a data body"), std::string::npos);
}

TEST(ReplyParser, ErrorMessagesNeverEchoRawControlBytes) {
  ReplyParser p;
  Status s = p.Feed("2\x1b[31m5 OK\r\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message().find('\x1b'), std::string::npos) << s.error().message();
}

TEST(Unquote, DecodesTheEscapesControlSpecDefines) {
  EXPECT_EQ(*Unquote(R"("plain")"), "plain");
  EXPECT_EQ(*Unquote(R"("a\"b\\c")"), "a\"b\\c");
  EXPECT_EQ(*Unquote(R"("l1\nl2\tt\r")"), "l1\nl2\tt\r");
  EXPECT_EQ(*Unquote(R"("\101\0\377\'")"), std::string("A\0\xff'", 4));
  EXPECT_EQ(*Unquote(R"("")"), "");
}

TEST(Unquote, RefusesInvalidEscapesAndUnterminatedStrings) {
  for (std::string_view bad :
       {R"("\q")", R"("\400")", R"("abc)", R"("abc\")", R"("a"b)", "abc", "\"a\x01\""}) {
    auto r = Unquote(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Errc::kProtocol);
    }
  }
}

TEST(Quote, EscapesAndRefusesLineBreaks) {
  EXPECT_EQ(*Quote(R"(a"b\c)"), R"("a\"b\\c")");
  EXPECT_EQ(*Unquote(*Quote("round \\ \" trip")), "round \\ \" trip");
  EXPECT_FALSE(Quote("a\r\nSIGNAL HALT").has_value());
  EXPECT_FALSE(Quote(std::string_view("a\0b", 3)).has_value());
}

TEST(Tokenize, SplitsPositionalAndQuotedKeyValues) {
  auto t = Tokenize(R"(CIRC 5 BUILT $AB~r1,$CD~r2 PURPOSE=GENERAL REASON="a b \"c\"" X=)");
  ASSERT_TRUE(t.has_value()) << t.error().message();
  ASSERT_EQ(t->size(), 7u);
  EXPECT_EQ((*t)[0], (Token{std::nullopt, "CIRC"}));
  EXPECT_EQ((*t)[3], (Token{std::nullopt, "$AB~r1,$CD~r2"}));
  EXPECT_EQ(*FindKey(*t, "PURPOSE"), "GENERAL");
  EXPECT_EQ(*FindKey(*t, "REASON"), "a b \"c\"");
  EXPECT_EQ(*FindKey(*t, "X"), "");
  EXPECT_EQ(FindKey(*t, "NOPE"), nullptr);
  EXPECT_FALSE(Tokenize(R"(K="open)").has_value());
  EXPECT_FALSE(Tokenize(R"(K="a"b)").has_value());
}

}  // namespace
}  // namespace qnet::tor
