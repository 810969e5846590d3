#include "qnet/tor/control_types.h"

#include <gtest/gtest.h>

#include <string>

namespace qnet::tor {
namespace {

Reply Parse(std::string_view text) {
  ReplyParser p;
  EXPECT_TRUE(p.Feed(text).ok());
  auto r = p.Next();
  EXPECT_TRUE(r.has_value()) << text;
  return r.value_or(Reply{});
}

TEST(ParseGetInfo, ReadsSingleAndMultiLineValues) {
  auto info = ParseGetInfo(
      Parse("250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"\r\n"
            "250+circuit-status=\r\n1 BUILT $A~a,$B~b PURPOSE=GENERAL\r\n2 LAUNCHED "
            "PURPOSE=GENERAL\r\n.\r\n"
            "250 OK\r\n"));
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_EQ(info->at("circuit-status"),
            "1 BUILT $A~a,$B~b PURPOSE=GENERAL\n2 LAUNCHED PURPOSE=GENERAL");
  auto boot = ParseBootstrapPhase(info->at("status/bootstrap-phase"));
  ASSERT_TRUE(boot.has_value());
  EXPECT_EQ(*boot, (BootstrapStatus{100, "done", "Done", std::nullopt}));
  auto circuits = ParseCircuitStatusList(info->at("circuit-status"));
  ASSERT_TRUE(circuits.has_value());
  ASSERT_EQ(circuits->size(), 2u);
  EXPECT_EQ((*circuits)[0].status, CircStatus::kBuilt);
  EXPECT_EQ((*circuits)[0].path, (std::vector<std::string>{"$A~a", "$B~b"}));
  EXPECT_TRUE((*circuits)[1].path.empty());
}

TEST(ParseGetInfo, AnErrorReplyIsAnErrorWithTorsText) {
  auto info = ParseGetInfo(Parse("552 Unrecognized key \"nope\"\r\n"));
  ASSERT_FALSE(info.has_value());
  EXPECT_NE(info.error().message().find("552 Unrecognized key"), std::string::npos);
}

TEST(ParseProtocolInfo, ReadsMethodsCookieFileAndVersion) {
  auto pi = ParseProtocolInfo(
      Parse("250-PROTOCOLINFO 1\r\n"
            "250-AUTH METHODS=COOKIE,SAFECOOKIE,FUTURE COOKIEFILE=\"/run/tor/c\\\"ookie\"\r\n"
            "250-VERSION Tor=\"0.4.9.11\"\r\n250 OK\r\n"));
  ASSERT_TRUE(pi.has_value()) << pi.error().message();
  EXPECT_EQ(pi->methods, (std::set<AuthMethod>{AuthMethod::kCookie, AuthMethod::kSafeCookie}));
  EXPECT_EQ(pi->cookie_file, "/run/tor/c\"ookie");
  EXPECT_EQ(pi->tor_version, "0.4.9.11");
  EXPECT_FALSE(ParseProtocolInfo(Parse("250-PROTOCOLINFO 1\r\n250 OK\r\n")).has_value());
  EXPECT_FALSE(ParseProtocolInfo(Parse("250-AUTH METHODS=NULL COOKIEFILE=\"\\q\"\r\n250 OK\r\n"))
                   .has_value());
}

TEST(ParseAuthChallenge, RequiresBothThirtyTwoByteValues) {
  std::string h(64, 'A');
  auto ok =
      ParseAuthChallenge(Parse("250 AUTHCHALLENGE SERVERHASH=" + h + " SERVERNONCE=" + h + "\r\n"));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->server_hash.size(), 32u);
  EXPECT_FALSE(ParseAuthChallenge(Parse("250 AUTHCHALLENGE SERVERHASH=" + h + "\r\n")));
  EXPECT_FALSE(ParseAuthChallenge(Parse("250 AUTHCHALLENGE SERVERHASH=AB SERVERNONCE=AB\r\n")));
  EXPECT_FALSE(ParseAuthChallenge(Parse("250 AUTHCHALLENGE SERVERHASH=" + std::string(64, 'Z') +
                                        " SERVERNONCE=" + h + "\r\n")));
}

TEST(ParseBootstrapPhase, RefusesMissingOrOutOfRangeProgress) {
  EXPECT_FALSE(ParseBootstrapPhase("NOTICE BOOTSTRAP TAG=done").has_value());
  EXPECT_FALSE(ParseBootstrapPhase("NOTICE BOOTSTRAP PROGRESS=101").has_value());
  EXPECT_FALSE(ParseBootstrapPhase("NOTICE BOOTSTRAP PROGRESS=-1").has_value());
  EXPECT_FALSE(ParseBootstrapPhase("NOTICE CIRCUIT_ESTABLISHED").has_value());
  auto warn = ParseBootstrapPhase(
      "WARN BOOTSTRAP PROGRESS=5 TAG=conn SUMMARY=\"Connecting\" WARNING=\"No route to host\"");
  ASSERT_TRUE(warn.has_value());
  EXPECT_EQ(warn->warning, "No route to host");
}

TEST(ParseEvent, ReadsCircStreamStatusClientAndLogEvents) {
  auto circ = ParseEvent(
      Parse("650 CIRC 7 BUILT $AA~guard,$BB~exit BUILD_FLAGS=NEED_CAPACITY PURPOSE=GENERAL "
            "SOCKS_USERNAME=\"ws-1\"\r\n"));
  ASSERT_TRUE(circ.has_value()) << circ.error().message();
  const auto& c = std::get<CircEvent>(*circ).circuit;
  EXPECT_EQ(c.id, 7u);
  EXPECT_EQ(c.status, CircStatus::kBuilt);
  EXPECT_EQ(c.path.back(), "$BB~exit");
  EXPECT_EQ(c.socks_username, "ws-1");

  auto stream = ParseEvent(Parse(
      "650 STREAM 12 SUCCEEDED 7 203.0.113.10:80 SOURCE_ADDR=10.137.0.12:40000 PURPOSE=USER\r\n"));
  ASSERT_TRUE(stream.has_value());
  const auto& s = std::get<StreamEvent>(*stream).stream;
  EXPECT_EQ(s.state, StreamState::kSucceeded);
  EXPECT_EQ(s.circuit_id, 7u);
  EXPECT_EQ(s.target, "203.0.113.10:80");
  EXPECT_EQ(s.source_addr, "10.137.0.12:40000");

  auto status = ParseEvent(Parse(
      "650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=85 TAG=ap_conn SUMMARY=\"Connecting\"\r\n"));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(std::get<StatusClientEvent>(*status).bootstrap->progress, 85);

  auto notice = ParseEvent(Parse("650+NOTICE\r\nline one\r\nline two\r\n.\r\n650 OK\r\n"));
  ASSERT_TRUE(notice.has_value());
  EXPECT_EQ(std::get<LogEvent>(*notice).message, "line one\nline two");
  auto warn = ParseEvent(Parse("650 WARN something odd\r\n"));
  EXPECT_EQ(std::get<LogEvent>(*warn).severity, "WARN");
  auto other = ParseEvent(Parse("650 BW 10 20\r\n"));
  EXPECT_EQ(std::get<OtherEvent>(*other).name, "BW");
}

TEST(ParseEvent, RefusesMalformedEvents) {
  EXPECT_FALSE(ParseEvent(Parse("650 CIRC x BUILT\r\n")).has_value());
  EXPECT_FALSE(ParseEvent(Parse("650 CIRC 1 EXPLODED\r\n")).has_value());
  EXPECT_FALSE(ParseEvent(Parse("650 STREAM 1 NEW\r\n")).has_value());
  EXPECT_FALSE(
      ParseEvent(Parse("650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=abc\r\n")).has_value());
  EXPECT_FALSE(ParseEvent(Parse("250 OK\r\n")).has_value());
}

}  // namespace
}  // namespace qnet::tor
