// Version negotiation, which message may travel where, and the per-link
// state machine (protocol.h).
#include "qnet/qrexec/protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace qnet::qrexec {
namespace {

using namespace std::string_literals;

Frame Hello(uint32_t version) { return {MsgType::kHello, EncodeHello({version})}; }
Frame Command(MsgType type) {
  return {type, *EncodeExecParams({0, 0, "user:QUBESRPC qubes.Filecopy work"})};
}
Frame PortReply(MsgType type) { return {type, EncodeVchanPort({5, 513})}; }
Frame Connect() { return {MsgType::kServiceConnect, *EncodeServiceConnect({{5, 513}, "SOCKET7"})}; }
Frame Data(MsgType type, std::string payload) { return {type, std::move(payload)}; }
Frame Exit(int32_t code) { return {MsgType::kDataExitCode, EncodeExitCode(code)}; }

TEST(QrexecNegotiate, TakesTheMinimumAndRefusesBelow3) {
  EXPECT_FALSE(NegotiateVersion(4, 2).has_value());
  EXPECT_EQ(NegotiateVersion(4, 2).error().code(), Errc::kProtocol);
  EXPECT_EQ(NegotiateVersion(4, 3).value(), 3u);
  EXPECT_EQ(NegotiateVersion(4, 4).value(), 4u);
  EXPECT_EQ(NegotiateVersion(4, 5).value(), 4u);
  EXPECT_EQ(NegotiateVersion(3, 5).value(), 3u);
  EXPECT_EQ(NegotiateVersion(2, 4).error().code(), Errc::kInvalidArgument);
}

struct RouteCase {
  const char* name;
  Route route;
  uint32_t version;
  Frame frame;
  const char* error;  // nullptr: allowed
};

std::vector<RouteCase> RouteCases() {
  TriggerServiceParams3 t3{"work", "SOCKET7", "qubes.Filecopy"};
  TriggerServiceParams4 t4{"", "work", "SOCKET7", "qubes.Filecopy"};
  Frame trigger3{MsgType::kTriggerService3, *EncodeTriggerServiceParams3(t3)};
  Frame trigger4{MsgType::kTriggerService4, *EncodeTriggerServiceParams4(t4)};
  Frame trigger2{MsgType::kTriggerService, std::string(kTriggerServiceParamsSize, '\0')};
  return {
      {"command to agent", Route::kDaemonToAgent, 3, Command(MsgType::kExecCmdline), nullptr},
      {"just exec to agent", Route::kDaemonToAgent, 4, Command(MsgType::kJustExec), nullptr},
      {"connect to agent", Route::kDaemonToAgent, 3, Connect(), nullptr},
      {"port reply to agent", Route::kDaemonToAgent, 3, PortReply(MsgType::kExecCmdline),
       "exec_params.cmdline: missing (8 bytes is a daemon's port reply)"},
      {"short connect to agent", Route::kDaemonToAgent, 3, PortReply(MsgType::kServiceConnect),
       "service_connect: 8 bytes for MSG_SERVICE_CONNECT, expected 40"},
      {"refusal to agent",
       Route::kDaemonToAgent,
       3,
       {MsgType::kServiceRefused, *EncodeServiceParams("SOCKET7")},
       nullptr},
      {"trigger3 from agent v3", Route::kAgentToDaemon, 3, trigger3, nullptr},
      {"trigger4 from agent v4", Route::kAgentToDaemon, 4, trigger4, nullptr},
      {"trigger4 from agent v3", Route::kAgentToDaemon, 3, trigger4,
       "MSG_TRIGGER_SERVICE4 is not part of qrexec protocol version 3"},
      {"trigger2 from agent v3", Route::kAgentToDaemon, 3, trigger2,
       "MSG_TRIGGER_SERVICE is not part of qrexec protocol version 3"},
      {"terminated from agent",
       Route::kAgentToDaemon,
       3,
       {MsgType::kConnectionTerminated, EncodeVchanPort({5, 513})},
       nullptr},
      {"command from agent", Route::kAgentToDaemon, 3, Command(MsgType::kExecCmdline),
       "MSG_EXEC_CMDLINE may not travel from an agent to the daemon"},
      {"trigger to agent", Route::kDaemonToAgent, 4, trigger4,
       "MSG_TRIGGER_SERVICE4 may not travel from the daemon to an agent"},
      {"command from client", Route::kClientToDaemon, 3, Command(MsgType::kExecCmdline), nullptr},
      {"connect from client", Route::kClientToDaemon, 3, Connect(), nullptr},
      {"port reply to client", Route::kDaemonToClient, 3, PortReply(MsgType::kExecCmdline),
       nullptr},
      {"connect reply to client", Route::kDaemonToClient, 3, PortReply(MsgType::kServiceConnect),
       nullptr},
      {"command to client", Route::kDaemonToClient, 3, Command(MsgType::kExecCmdline),
       "exec_params: 42 bytes, a port reply has 8"},
      {"stdin to service", Route::kToService, 3, Data(MsgType::kDataStdin, "x"), nullptr},
      {"stdout to service", Route::kToService, 3, Data(MsgType::kDataStdout, "x"),
       "MSG_DATA_STDOUT may not travel from a requester to a service"},
      {"exit code to service", Route::kToService, 3, Exit(0),
       "MSG_DATA_EXIT_CODE may not travel from a requester to a service"},
      {"stdin from service", Route::kFromService, 3, Data(MsgType::kDataStdin, "x"),
       "MSG_DATA_STDIN may not travel from a service to a requester"},
      {"stdout from service", Route::kFromService, 3, Data(MsgType::kDataStdout, "x"), nullptr},
      {"stderr from service", Route::kFromService, 4, Data(MsgType::kDataStderr, "x"), nullptr},
      {"exit from service", Route::kFromService, 4, Exit(127), nullptr},
      {"full chunk v3", Route::kFromService, 3,
       Data(MsgType::kDataStdout, std::string(kMaxDataChunk, 'x')), nullptr},
      {"command on data", Route::kFromService, 3, Command(MsgType::kExecCmdline),
       "MSG_EXEC_CMDLINE may not travel from a service to a requester"},
  };
}

TEST(QrexecRoute, EachMessageTravelsOnlyWhereAndWhenQubesSendsIt) {
  for (const RouteCase& c : RouteCases()) {
    SCOPED_TRACE(c.name);
    Status s = CheckRoute(c.route, c.version, c.frame);
    if (c.error == nullptr) {
      EXPECT_TRUE(s.ok()) << s.error().message();
    } else {
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.error().code(), Errc::kProtocol);
      EXPECT_EQ(s.error().message(), c.error);
    }
  }
}

TEST(QrexecRoute, Version2ChunkSizeIsEnforcedWhenNegotiated) {
  Frame big = Data(MsgType::kDataStdin, std::string(kMaxDataChunkV2 + 1, 'x'));
  Status v2 = CheckRoute(Route::kToService, 2, big);
  ASSERT_FALSE(v2.ok());
  EXPECT_EQ(v2.error().message(),
            "MSG_DATA_STDIN: 4097 bytes exceeds the chunk size 4096 of version 2");
  EXPECT_TRUE(CheckRoute(Route::kToService, 3, big).ok());
}

TEST(QrexecSession, RequesterSeesOutputThenExitCodeAndNothingAfter) {
  SessionState s(Route::kFromService);
  EXPECT_FALSE(s.version().has_value());
  ASSERT_TRUE(s.OnFrame(Hello(3)).ok());
  EXPECT_EQ(s.version(), 3u);
  ASSERT_TRUE(s.OnFrame(Data(MsgType::kDataStdout, "out")).ok());
  ASSERT_TRUE(s.OnFrame(Data(MsgType::kDataStderr, "err")).ok());
  ASSERT_TRUE(s.OnFrame(Data(MsgType::kDataStdout, "")).ok());
  ASSERT_TRUE(s.OnFrame(Data(MsgType::kDataStderr, "")).ok());
  EXPECT_FALSE(s.finished());
  ASSERT_TRUE(s.OnFrame(Exit(127)).ok());
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.exit_code(), 127);
  Status after = s.OnFrame(Data(MsgType::kDataStdout, "late"));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().message(),
            "MSG_DATA_STDOUT after the end of the session from a service to a requester");
}

TEST(QrexecSession, RefusesDataAfterItsStreamsEofAndStaysPoisoned) {
  SessionState s(Route::kFromService);
  ASSERT_TRUE(s.OnFrame(Hello(4)).ok());
  ASSERT_TRUE(s.OnFrame(Data(MsgType::kDataStdout, "")).ok());
  ASSERT_TRUE(s.OnFrame(Data(MsgType::kDataStderr, "still open")).ok());  // positive control
  Status s2 = s.OnFrame(Data(MsgType::kDataStdout, "x"));
  ASSERT_FALSE(s2.ok());
  EXPECT_EQ(s2.error().message(), "MSG_DATA_STDOUT after the end of stdout");
  Status poisoned = s.OnFrame(Exit(0));
  ASSERT_FALSE(poisoned.ok());
  EXPECT_EQ(poisoned.error().message(), s2.error().message());
}

TEST(QrexecSession, ServiceSideEndsAtStdinEof) {
  SessionState s(Route::kToService);
  ASSERT_TRUE(s.OnFrame(Hello(4)).ok());
  ASSERT_TRUE(s.OnFrame(Data(MsgType::kDataStdin, "in")).ok());
  EXPECT_FALSE(s.finished());
  ASSERT_TRUE(s.OnFrame(Data(MsgType::kDataStdin, "")).ok());
  EXPECT_TRUE(s.finished());
  EXPECT_FALSE(s.OnFrame(Data(MsgType::kDataStdin, "more")).ok());
}

TEST(QrexecSession, HelloFirstAndOnlyOnce) {
  SessionState no_hello(Route::kDaemonToAgent);
  Status first = no_hello.OnFrame(Command(MsgType::kExecCmdline));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().message(), "expected MSG_HELLO first, got MSG_EXEC_CMDLINE");

  SessionState twice(Route::kDaemonToAgent);
  ASSERT_TRUE(twice.OnFrame(Hello(3)).ok());
  ASSERT_TRUE(twice.OnFrame(Command(MsgType::kExecCmdline)).ok());
  ASSERT_TRUE(twice.OnFrame(Command(MsgType::kJustExec)).ok());  // control carries many
  Status again = twice.OnFrame(Hello(3));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message(), "MSG_HELLO sent twice");

  SessionState old(Route::kAgentToDaemon);
  Status v2 = old.OnFrame(Hello(2));
  ASSERT_FALSE(v2.ok());
  EXPECT_EQ(v2.error().message(),
            "peer speaks qrexec protocol version 2; the oldest qnet speaks is 3");
}

TEST(QrexecSession, ClientLinkCarriesOneCommandAndOneReply) {
  SessionState daemon_side(Route::kClientToDaemon);
  ASSERT_TRUE(daemon_side.OnFrame(Hello(4)).ok());
  ASSERT_TRUE(daemon_side.OnFrame(Command(MsgType::kExecCmdline)).ok());
  EXPECT_TRUE(daemon_side.finished());
  EXPECT_FALSE(daemon_side.OnFrame(Command(MsgType::kExecCmdline)).ok());

  SessionState client_side(Route::kDaemonToClient);
  ASSERT_TRUE(client_side.OnFrame(Hello(4)).ok());
  ASSERT_TRUE(client_side.OnFrame(PortReply(MsgType::kExecCmdline)).ok());
  EXPECT_TRUE(client_side.finished());
}

}  // namespace
}  // namespace qnet::qrexec
