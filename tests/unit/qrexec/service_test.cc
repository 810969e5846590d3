// Call / ServeOne / Handshake over a real socketpair with a server thread.
#include "qnet/qrexec/service.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

namespace qnet::qrexec {
namespace {

using namespace std::chrono_literals;

ServiceReply Echo(ServiceRequest& request) {
  return {0, request.input,
          "arg=" + request.arg + " source=" + request.source + " user=" + request.user};
}

ServiceReply Fail3(ServiceRequest&) { return {3, "", "it failed\n"}; }

// Writes its input into every fd it was given.
ServiceReply WriteToFds(ServiceRequest& request) {
  for (const UniqueFd& fd : request.fds) {
    Status s = WriteAll(fd.get(), request.input);
    if (!s) return {1, "", s.error().message()};
  }
  return {0, std::to_string(request.fds.size()), ""};
}

ServiceTable MakeTable() {
  Result<ServiceTable> table = ServiceTable::Create({
      {"qnet.Echo", Echo},
      {"qnet.Fail", Fail3},
      {"qnet.WriteFds", WriteToFds},
  });
  EXPECT_TRUE(table.has_value());
  return std::move(table).value();
}

// A client channel and a thread serving calls on its peer until the client
// goes away; the statuses ServeOne returned are kept for the test.
class QrexecService : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::pair<Channel, Channel>> pair = Channel::Pair();
    ASSERT_TRUE(pair.has_value());
    client_.emplace(std::move(pair->first));
    server_channel_.emplace(std::move(pair->second));
  }

  void StartServer() {
    server_ = std::thread([this] {
      while (true) {
        Status s = ServeOne(*server_channel_, table_, 5s);
        std::lock_guard lock(mu_);
        served_.push_back(s);
        if (!s.ok() && s.error().code() != Errc::kInvalidArgument) return;
      }
    });
  }

  void TearDown() override {
    client_.reset();  // the server sees "peer closed" and stops
    if (server_.joinable()) server_.join();
  }

  std::vector<Status> Served() {
    std::lock_guard lock(mu_);
    return served_;
  }

  ServiceTable table_ = MakeTable();
  std::optional<Channel> client_;
  std::optional<Channel> server_channel_;
  std::thread server_;
  std::mutex mu_;
  std::vector<Status> served_;
};

TEST_F(QrexecService, EchoServiceReturnsInputAndCallContext) {
  StartServer();
  CallRequest request{"qnet.Echo", "eth0", "dom0", "root", "hello agent", {}};
  Result<CallResult> result = Call(*client_, request, 5s);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->stdout_data, "hello agent");
  EXPECT_EQ(result->stderr_data, "arg=eth0 source=dom0 user=root");
}

TEST_F(QrexecService, NonZeroExitCodeIsAResultNotAnError) {
  StartServer();
  Result<CallResult> result = Call(*client_, {"qnet.Fail", "", "dom0", "root", "", {}}, 5s);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->stderr_data, "it failed\n");
}

TEST_F(QrexecService, UnknownServiceIsNotFoundNamingItAndTheChannelStaysUsable) {
  StartServer();
  Result<CallResult> missing =
      Call(*client_, {"qnet.Missing", "x", "dom0", "root", "some input", {}}, 5s);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_EQ(missing.error().message(),
            "qrexec call qnet.Missing+x: no such service in the peer (exit code 127)");

  Result<CallResult> echo = Call(*client_, {"qnet.Echo", "", "dom0", "root", "still here", {}}, 5s);
  ASSERT_TRUE(echo.has_value()) << echo.error().message();
  EXPECT_EQ(echo->stdout_data, "still here");
}

TEST_F(QrexecService, LargeInputIsChunkedAndEchoedWhole) {
  StartServer();
  std::string input;
  for (size_t i = 0; input.size() < 3 * kMaxDataChunk + 12345; ++i) input += std::to_string(i);
  Result<CallResult> result = Call(*client_, {"qnet.Echo", "", "dom0", "root", input, {}}, 10s);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_GT(input.size(), 64u * 1024);
  EXPECT_EQ(result->stdout_data.size(), input.size());
  EXPECT_EQ(result->stdout_data, input);
}

TEST_F(QrexecService, PassedFdsReachTheHandlerAndStayOpenForTheCaller) {
  StartServer();
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  Result<CallResult> result =
      Call(*client_, {"qnet.WriteFds", "", "dom0", "root", "via fd", {write_end.get()}}, 5s);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(result->exit_code, 0) << result->stderr_data;
  EXPECT_EQ(result->stdout_data, "1");
  // The caller's fd was duplicated, not taken: it is still ours to use.
  ASSERT_EQ(::write(write_end.get(), "+mine", 5), 5);
  write_end.reset();
  Result<std::string> read = ReadAll(read_end.get());
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, "via fd+mine");
}

TEST_F(QrexecService, InvalidRequestIsRefusedBeforeSending) {
  StartServer();
  Result<CallResult> bad = Call(*client_, {"qnet Echo", "", "dom0", "root", "", {}}, 5s);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(bad.error().message(),
            "qrexec call qnet Echo: service name 'qnet Echo' has invalid character ' ' at "
            "offset 4");
  Result<CallResult> bad_fd = Call(*client_, {"qnet.Echo", "", "dom0", "root", "", {-1}}, 5s);
  ASSERT_FALSE(bad_fd.has_value());
  EXPECT_EQ(bad_fd.error().code(), Errc::kInvalidArgument);

  Result<CallResult> good = Call(*client_, {"qnet.Echo", "", "dom0", "root", "ok", {}}, 5s);
  ASSERT_TRUE(good.has_value()) << good.error().message();
}

TEST_F(QrexecService, CallTimesOutWhenNoServerAnswers) {
  Result<CallResult> result = Call(*client_, {"qnet.Echo", "", "dom0", "root", "", {}}, 50ms);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::kTimeout);
}

// A Qubes agent answers a call it cannot run with both streams' EOF and an
// exit code: 127 for a missing service, 125 for a malformed command line.
std::vector<Message> ReceiveUntilExitCode(Channel& channel) {
  std::vector<Message> messages;
  while (true) {
    Result<Message> m = channel.Receive(5s);
    if (!m) {
      ADD_FAILURE() << m.error().message();
      return messages;
    }
    messages.push_back(std::move(*m));
    if (messages.back().type == MsgType::kDataExitCode) return messages;
  }
}

TEST_F(QrexecService, UnknownServiceGetsEmptyStreamsAndExitCode127AsAQubesAgentSends) {
  StartServer();
  ExecParams params{0, 0, "user:QUBESRPC qubes.Missing+x work"};
  ASSERT_TRUE(client_->Send(MsgType::kExecCmdline, *EncodeExecParams(params)).ok());
  ASSERT_TRUE(client_->Send(MsgType::kDataStdin, "").ok());
  std::vector<Message> reply = ReceiveUntilExitCode(*client_);
  ASSERT_EQ(reply.size(), 3u);
  EXPECT_EQ(reply[0].type, MsgType::kDataStdout);
  EXPECT_EQ(reply[0].payload, "");
  EXPECT_EQ(reply[1].type, MsgType::kDataStderr);
  EXPECT_EQ(reply[1].payload, "");
  EXPECT_EQ(DecodeExitCode(reply[2].payload).value(), kExitNotFound);

  // Positive control: a known service answers with output and its EOFs.
  params.cmdline = "user:QUBESRPC qnet.Echo work";
  ASSERT_TRUE(client_->Send(MsgType::kExecCmdline, *EncodeExecParams(params)).ok());
  ASSERT_TRUE(client_->Send(MsgType::kDataStdin, "hi").ok());
  ASSERT_TRUE(client_->Send(MsgType::kDataStdin, "").ok());
  reply = ReceiveUntilExitCode(*client_);
  ASSERT_EQ(reply.size(), 5u);
  EXPECT_EQ(reply[0].payload, "hi");
  EXPECT_EQ(reply[1].payload, "");
  EXPECT_EQ(reply[2].type, MsgType::kDataStderr);
  EXPECT_EQ(reply[2].payload, "arg= source=work user=user");
  EXPECT_EQ(reply[3].payload, "");
  EXPECT_EQ(DecodeExitCode(reply[4].payload).value(), 0);
}

TEST_F(QrexecService, ServerRefusesAMalformedCommandLineWithExitCode125AndReportsIt) {
  StartServer();
  ExecParams params{0, 0, "root:rm -rf /"};
  ASSERT_TRUE(client_->Send(MsgType::kExecCmdline, *EncodeExecParams(params)).ok());
  ASSERT_TRUE(client_->Send(MsgType::kDataStdin, "").ok());
  std::vector<Message> reply = ReceiveUntilExitCode(*client_);
  ASSERT_EQ(reply.size(), 3u);
  EXPECT_EQ(DecodeExitCode(reply[2].payload).value(), kExitProblem);

  client_.reset();
  server_.join();
  std::vector<Status> served = Served();
  ASSERT_EQ(served.size(), 2u);
  ASSERT_FALSE(served[0].ok());
  EXPECT_EQ(served[0].error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(served[0].error().message(),
            "qrexec serve: refused: cmdline: not a QUBESRPC service call (expected 'QUBESRPC ' "
            "after the user, got 'rm -rf /')");
  ASSERT_FALSE(served[1].ok());
  EXPECT_EQ(served[1].error().code(), Errc::kUnavailable);
}

TEST_F(QrexecService, ServerRefusesAMessageOutOfSequence) {
  StartServer();
  ASSERT_TRUE(client_->Send(MsgType::kDataStdin, "no cmdline first").ok());
  server_.join();
  std::vector<Status> served = Served();
  ASSERT_EQ(served.size(), 1u);
  EXPECT_EQ(served[0].error().code(), Errc::kProtocol);
  EXPECT_EQ(served[0].error().message(),
            "qrexec serve: expected MSG_EXEC_CMDLINE, got MSG_DATA_STDIN");
}

TEST(QrexecServiceTable, RefusesDuplicateAndInvalidRows) {
  Result<ServiceTable> dup = ServiceTable::Create({{"qnet.A", Echo}, {"qnet.A", Fail3}});
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(dup.error().message(), "service table: qnet.A listed twice");

  Result<ServiceTable> bad = ServiceTable::Create({{"qnet.A+x", Echo}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Errc::kInvalidArgument);

  Result<ServiceTable> no_handler = ServiceTable::Create({{"qnet.A", nullptr}});
  ASSERT_FALSE(no_handler.has_value());
  EXPECT_EQ(no_handler.error().message(), "service table: qnet.A: no handler");

  Result<ServiceTable> ok = ServiceTable::Create({{"qnet.B", Echo}, {"qnet.A", Fail3}});
  ASSERT_TRUE(ok.has_value());
  EXPECT_NE(ok->Find("qnet.A"), nullptr);
  EXPECT_NE(ok->Find("qnet.B"), nullptr);
  EXPECT_EQ(ok->Find("qnet.C"), nullptr);
}

TEST(QrexecHandshake, BothEndsAgreeOnTheNewestVersion) {
  Result<std::pair<Channel, Channel>> pair = Channel::Pair();
  ASSERT_TRUE(pair.has_value());
  Channel& server = pair->second;
  Result<uint32_t> server_version = 0u;
  std::thread t([&server, &server_version] { server_version = NegotiateHandshake(server, 5s); });
  Result<uint32_t> client_version = NegotiateHandshake(pair->first, 5s);
  t.join();
  ASSERT_TRUE(client_version.has_value()) << client_version.error().message();
  ASSERT_TRUE(server_version.has_value()) << server_version.error().message();
  EXPECT_EQ(*client_version, kProtocolVersion);
  EXPECT_EQ(*server_version, kProtocolVersion);
}

// A peer offering 2 is refused; 3, 4 and 5 negotiate down to min(ours=4, theirs).
TEST(QrexecHandshake, NegotiatesTheMinimumVersionAndRefusesBelow3) {
  struct Case {
    uint32_t offered;
    std::optional<uint32_t> agreed;
  };
  const Case cases[] = {{2, std::nullopt}, {3, 3}, {4, 4}, {5, 4}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.offered);
    Result<std::pair<Channel, Channel>> pair = Channel::Pair();
    ASSERT_TRUE(pair.has_value());
    ASSERT_TRUE(pair->second.Send(MsgType::kHello, EncodeHello({c.offered})).ok());
    Result<uint32_t> version = NegotiateHandshake(pair->first, 5s);
    if (c.agreed) {
      ASSERT_TRUE(version.has_value()) << version.error().message();
      EXPECT_EQ(*version, *c.agreed);
    } else {
      ASSERT_FALSE(version.has_value());
      EXPECT_EQ(version.error().code(), Errc::kProtocol);
      EXPECT_EQ(version.error().message(),
                "qrexec handshake: peer speaks qrexec protocol version 2; the oldest qnet "
                "speaks is 3");
    }
  }
}

TEST(QrexecHandshake, RefusesAFirstMessageThatIsNotHello) {
  Result<std::pair<Channel, Channel>> pair = Channel::Pair();
  ASSERT_TRUE(pair.has_value());
  ASSERT_TRUE(pair->second.Send(MsgType::kDataStdin, "hi").ok());
  Status s = Handshake(pair->first, 5s);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "qrexec handshake: expected MSG_HELLO, got MSG_DATA_STDIN");
}

}  // namespace
}  // namespace qnet::qrexec
