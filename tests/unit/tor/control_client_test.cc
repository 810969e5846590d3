// The control client against a scripted fake tor: every error path ends
// the connection with the error the user sees, and the happy paths work.
#include "qnet/tor/control_client.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "fake_tor.h"

namespace qnet::tor {
namespace {

using namespace std::chrono_literals;
using testing::Answer;
using testing::FakeTor;

constexpr char kProtocolInfoNull[] =
    "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n250-VERSION Tor=\"0.4.9.11\"\r\n250 OK\r\n";

bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done,
              std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < until) {
    io.run_for(10ms);
    if (io.stopped()) io.restart();
  }
  return done();
}

// Answers PROTOCOLINFO with NULL auth, AUTHENTICATE and SETEVENTS with OK,
// and hands every other line to `rest`.
FakeTor::Script NullAuthThen(std::function<Answer(const std::string&, int)> rest) {
  return [rest](const std::string& line, int conn) -> Answer {
    if (line == "PROTOCOLINFO 1") return {kProtocolInfoNull};
    if (line == "AUTHENTICATE" || line.starts_with("SETEVENTS")) return {"250 OK\r\n"};
    return rest(line, conn);
  };
}

struct Recorder {
  std::vector<ClientState> states;
  std::optional<Error> last_error;
  void Attach(ControlClient& c) {
    c.OnState([this](ClientState s, const Error* e) {
      states.push_back(s);
      if (e) last_error = *e;
    });
  }
  bool Saw(ClientState s) const {
    return std::find(states.begin(), states.end(), s) != states.end();
  }
};

ClientOptions NoReconnect() {
  ClientOptions o;
  o.reconnect = false;
  o.command_timeout = 2000ms;
  return o;
}

std::vector<std::string> Keys(std::string k) { return {std::move(k)}; }

TEST(ControlClient, PipelinedCommandsAreAnsweredInOrder) {
  boost::asio::io_context io;
  int answered = 0;
  FakeTor fake(io, NullAuthThen([&](const std::string& line, int) -> Answer {
                 return {fmt::format("250-{}={}\r\n250 OK\r\n", line.substr(8), ++answered)};
               }));
  ControlClient client(io.get_executor(), UnixEndpoint{fake.path()}, NoReconnect());
  client.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return client.state() == ClientState::kReady; }));
  EXPECT_EQ(client.auth_method(), AuthMethod::kNull);
  std::vector<std::string> got;
  for (std::string key : {"a", "b", "c"}) {
    client.Send(*GetInfo(Keys(key)), [&got, key](Result<Reply> r) {
      ASSERT_TRUE(r.has_value());
      got.push_back(r->lines.front().text);
    });
  }
  ASSERT_TRUE(RunUntil(io, [&] { return got.size() == 3; }));
  EXPECT_EQ(got, (std::vector<std::string>{"a=1", "b=2", "c=3"}));
}

TEST(ControlClient, SendBeforeReadyFailsUnavailable) {
  boost::asio::io_context io;
  ControlClient client(io.get_executor(), UnixEndpoint{"/nonexistent/control"}, NoReconnect());
  std::optional<Result<Reply>> got;
  client.Send(SignalCommand(Signal::kNewnym), [&](Result<Reply> r) { got = std::move(r); });
  ASSERT_TRUE(RunUntil(io, [&] { return got.has_value(); }));
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error().code(), Errc::kUnavailable);
}

TEST(ControlClient, EventsReachTheHandlerBetweenReplies) {
  boost::asio::io_context io;
  FakeTor fake(io, NullAuthThen([](const std::string&, int) -> Answer {
                 return {
                     "650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"\r\n"
                     "250-version=0.4.9.11\r\n250 OK\r\n"};
               }));
  ClientOptions o = NoReconnect();
  o.events = {EventType::kStatusClient};
  ControlClient client(io.get_executor(), UnixEndpoint{fake.path()}, o);
  std::vector<int> progress;
  client.OnEvent([&](const Event& e) {
    if (auto* s = std::get_if<StatusClientEvent>(&e)) progress.push_back(s->bootstrap->progress);
  });
  client.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return client.state() == ClientState::kReady; }));
  EXPECT_NE(std::find(fake.received().begin(), fake.received().end(), "SETEVENTS STATUS_CLIENT"),
            fake.received().end());
  std::optional<Result<Reply>> got;
  client.Send(*GetInfo(Keys("version")), [&](Result<Reply> r) { got = std::move(r); });
  ASSERT_TRUE(RunUntil(io, [&] { return got.has_value(); }));
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->lines.front().text, "version=0.4.9.11");
  EXPECT_EQ(progress, std::vector<int>{100});
}

// A fake tor with a real cookie that answers AUTHCHALLENGE with a server
// hash it computes (correctly or not).
struct CookieTor {
  std::vector<uint8_t> cookie = std::vector<uint8_t>(32, 0x42);
  std::vector<uint8_t> server_nonce = std::vector<uint8_t>(32, 0x17);
  bool forge = false;
  std::string cookie_path;

  FakeTor::Script Script(const std::string& methods) {
    return [this, methods](const std::string& line, int) -> Answer {
      if (line == "PROTOCOLINFO 1")
        return {
            fmt::format("250-PROTOCOLINFO 1\r\n250-AUTH METHODS={} COOKIEFILE=\"{}\"\r\n250 OK\r\n",
                        methods, cookie_path)};
      if (line.starts_with("AUTHCHALLENGE SAFECOOKIE ")) {
        auto client_nonce = *HexDecode(line.substr(25));
        Digest server = SafeCookieServerHash(cookie, client_nonce, server_nonce);
        if (forge) server[0] ^= 1;
        expected_client = HexEncode(SafeCookieClientHash(cookie, client_nonce, server_nonce));
        return {fmt::format("250 AUTHCHALLENGE SERVERHASH={} SERVERNONCE={}\r\n", HexEncode(server),
                            HexEncode(server_nonce))};
      }
      if (line.starts_with("AUTHENTICATE ")) {
        std::string secret = line.substr(13);
        bool ok = secret == expected_client || secret == HexEncode(cookie);
        return {ok ? "250 OK\r\n" : "515 Authentication failed\r\n"};
      }
      return {"510 Unrecognized command\r\n"};
    };
  }
  std::string expected_client;
};

void WriteCookie(const std::string& path, const std::vector<uint8_t>& cookie) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(cookie.data()), 32);
}

TEST(ControlClient, SafeCookieAuthenticatesAndNeverLogsTheSecret) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  spdlog::set_level(spdlog::level::debug);

  boost::asio::io_context io;
  CookieTor tor;
  auto fake = std::make_unique<FakeTor>(io, tor.Script("COOKIE,SAFECOOKIE"));
  tor.cookie_path = fake->dir() + "/cookie";
  WriteCookie(tor.cookie_path, tor.cookie);
  ControlClient client(io.get_executor(), UnixEndpoint{fake->path()}, NoReconnect());
  client.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return client.state() == ClientState::kReady; }));
  EXPECT_EQ(client.auth_method(), AuthMethod::kSafeCookie);
  spdlog::set_default_logger(previous);
  EXPECT_EQ(log.str().find(tor.expected_client), std::string::npos);
  EXPECT_EQ(log.str().find(HexEncode(tor.cookie)), std::string::npos);
}

TEST(ControlClient, CookieAuthWhenSafeCookieIsNotOffered) {
  boost::asio::io_context io;
  CookieTor tor;
  FakeTor fake(io, tor.Script("COOKIE"));
  tor.cookie_path = fake.dir() + "/cookie";
  WriteCookie(tor.cookie_path, tor.cookie);
  ControlClient client(io.get_executor(), UnixEndpoint{fake.path()}, NoReconnect());
  client.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return client.state() == ClientState::kReady; }));
  EXPECT_EQ(client.auth_method(), AuthMethod::kCookie);
}

TEST(ControlClient, BadServerHashClosesBeforeTheClientHashIsSent) {
  boost::asio::io_context io;
  CookieTor tor;
  tor.forge = true;
  FakeTor fake(io, tor.Script("SAFECOOKIE"));
  tor.cookie_path = fake.dir() + "/cookie";
  WriteCookie(tor.cookie_path, tor.cookie);
  Recorder rec;
  ControlClient client(io.get_executor(), UnixEndpoint{fake.path()}, NoReconnect());
  rec.Attach(client);
  client.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return rec.Saw(ClientState::kDisconnected); }));
  EXPECT_FALSE(rec.Saw(ClientState::kReady));
  ASSERT_TRUE(rec.last_error.has_value());
  EXPECT_EQ(rec.last_error->code(), Errc::kPermissionDenied);
  EXPECT_NE(rec.last_error->message().find("server hash does not match"), std::string::npos);
  for (const std::string& line : fake.received()) EXPECT_FALSE(line.starts_with("AUTHENTICATE"));
  EXPECT_TRUE(std::find(fake.received().begin(), fake.received().end(), "PROTOCOLINFO 1") !=
              fake.received().end());
}

TEST(ControlClient, RefusedAuthenticationIsAnError) {
  boost::asio::io_context io;
  FakeTor fake(io, [](const std::string& line, int) -> Answer {
    if (line == "PROTOCOLINFO 1") return {kProtocolInfoNull};
    return {"515 Authentication failed\r\n"};
  });
  Recorder rec;
  ControlClient client(io.get_executor(), UnixEndpoint{fake.path()}, NoReconnect());
  rec.Attach(client);
  client.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return rec.Saw(ClientState::kDisconnected); }));
  EXPECT_NE(rec.last_error->message().find("515 Authentication failed"), std::string::npos);
}

// Each error path: the pending command fails with the error, the state
// handler sees the connection close, and a command answered before works
// (positive control).
struct ErrorCase {
  const char* name;
  FakeTor::Script after_first;  // answers lines after the first GETINFO
  Errc code;
  const char* message;
};

TEST(ControlClient, EveryErrorPathEndsTheConnectionWithItsError) {
  const std::vector<ErrorCase> cases = {
      {"hang past the deadline", [](const std::string&, int) -> Answer { return {}; },
       Errc::kTimeout, "no reply within 300 ms"},
      {"garbage", [](const std::string&, int) -> Answer { return {"HTTP/1.0 200 OK\r\n"}; },
       Errc::kProtocol, "bad status line"},
      {"disconnect mid-reply",
       [](const std::string&, int) -> Answer {
         return {"250-version=1\r\n250-x", true};
       },
       Errc::kUnavailable, "inside a reply"},
      {"unterminated data then close",
       [](const std::string&, int) -> Answer {
         return {"250+config-text=\r\nabc\r\n", true};
       },
       Errc::kUnavailable, "inside a data body"},
      {"code changes mid-reply",
       [](const std::string&, int) -> Answer { return {"250-a=b\r\n552 OK\r\n"}; }, Errc::kProtocol,
       "status code changed"},
      {"malformed event",
       [](const std::string&, int) -> Answer { return {"650 CIRC notanumber BUILT\r\n"}; },
       Errc::kProtocol, "circuit id"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    boost::asio::io_context io;
    int getinfos = 0;
    FakeTor fake(io, NullAuthThen([&](const std::string& line, int conn) -> Answer {
                   if (++getinfos == 1) return {"250-version=0.4.9.11\r\n250 OK\r\n"};
                   return c.after_first(line, conn);
                 }));
    Recorder rec;
    ControlClient client(io.get_executor(), UnixEndpoint{fake.path()}, NoReconnect());
    rec.Attach(client);
    client.Start();
    ASSERT_TRUE(RunUntil(io, [&] { return client.state() == ClientState::kReady; }));
    std::optional<Result<Reply>> first, second;
    client.Send(*GetInfo(Keys("version")), [&](Result<Reply> r) { first = std::move(r); });
    client.Send(*GetInfo(Keys("version")), 300ms, [&](Result<Reply> r) { second = std::move(r); });
    ASSERT_TRUE(RunUntil(io, [&] { return first.has_value() && second.has_value(); }));
    ASSERT_TRUE(first->has_value());  // positive control
    ASSERT_FALSE(second->has_value());
    EXPECT_EQ(second->error().code(), c.code) << second->error().message();
    EXPECT_NE(second->error().message().find(c.message), std::string::npos)
        << second->error().message();
    EXPECT_NE(second->error().message().find("GETINFO"), std::string::npos);
    EXPECT_EQ(client.state(), ClientState::kDisconnected);
  }
}

TEST(ControlClient, UnsolicitedReplyEndsTheConnection) {
  boost::asio::io_context io;
  FakeTor fake(io, NullAuthThen([](const std::string&, int) -> Answer { return {"250 OK\r\n"}; }));
  Recorder rec;
  ControlClient client(io.get_executor(), UnixEndpoint{fake.path()}, NoReconnect());
  rec.Attach(client);
  client.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return client.state() == ClientState::kReady; }));
  fake.Push("250 OK\r\n");
  ASSERT_TRUE(RunUntil(io, [&] { return rec.Saw(ClientState::kDisconnected); }));
  EXPECT_EQ(rec.last_error->code(), Errc::kProtocol);
  EXPECT_NE(rec.last_error->message().find("reply to no command"), std::string::npos);
}

TEST(ControlClient, ReconnectsWithBackoffAfterTorClosesTheConnection) {
  boost::asio::io_context io;
  FakeTor fake(io, NullAuthThen([](const std::string&, int conn) -> Answer {
                 if (conn == 0)
                   return {"", true};  // the first connection dies at its first command
                 return {"250 OK\r\n"};
               }));
  ClientOptions o;
  o.backoff_initial = 50ms;
  Recorder rec;
  ControlClient client(io.get_executor(), UnixEndpoint{fake.path()}, o);
  rec.Attach(client);
  client.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return client.state() == ClientState::kReady; }));
  std::optional<Result<Reply>> lost, answered;
  client.Send(SignalCommand(Signal::kNewnym), [&](Result<Reply> r) { lost = std::move(r); });
  ASSERT_TRUE(RunUntil(io, [&] { return lost.has_value(); }));
  EXPECT_FALSE(lost->has_value());
  ASSERT_TRUE(RunUntil(
      io, [&] { return fake.connections() == 2 && client.state() == ClientState::kReady; }));
  client.Send(SignalCommand(Signal::kNewnym), [&](Result<Reply> r) { answered = std::move(r); });
  ASSERT_TRUE(RunUntil(io, [&] { return answered.has_value(); }));
  EXPECT_TRUE(answered->has_value());
}

TEST(ControlClient, ConnectFailureReportsAndRetries) {
  boost::asio::io_context io;
  ClientOptions o;
  o.backoff_initial = 20ms;
  int disconnects = 0;
  ControlClient client(io.get_executor(), UnixEndpoint{"/nonexistent/qnet-control"}, o);
  client.OnState(
      [&](ClientState s, const Error*) { disconnects += s == ClientState::kDisconnected; });
  client.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return disconnects >= 3; }));
  client.Stop();
  EXPECT_EQ(client.state(), ClientState::kStopped);
}

}  // namespace
}  // namespace qnet::tor
