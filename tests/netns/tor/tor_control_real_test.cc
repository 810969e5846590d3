// The control client against Debian's tor, started per test with
// DisableNetwork 1 and a ControlSocket in a temp dir. Each auth method gets
// its own torrc; events, NEWNYM and ADD_ONION/DEL_ONION run for real.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>

#include "qnet/base/process.h"
#include "qnet/tor/control_client.h"
#include "tor_fixture.h"

namespace qnet::tor {
namespace {

using namespace std::chrono_literals;
using testing::TestTor;

bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done,
              std::chrono::milliseconds limit = 10000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < until) {
    io.run_for(10ms);
    if (io.stopped()) io.restart();
  }
  return done();
}

class RealTor : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::TorInstalled()) GTEST_SKIP() << "needs tor (apt-get install tor)";
  }

  // Starts tor with the extra torrc lines and a client; waits for kReady.
  void Connect(const std::vector<std::string>& torrc, Credentials creds = {},
               std::vector<EventType> events = {}) {
    tor_ = std::make_unique<TestTor>(torrc);
    ASSERT_TRUE(tor_->ok()) << tor_->error();
    ClientOptions o;
    o.reconnect = false;
    o.credentials = std::move(creds);
    o.events = std::move(events);
    client_ =
        std::make_unique<ControlClient>(io_.get_executor(), UnixEndpoint{tor_->control_path()}, o);
    client_->OnState([this](ClientState, const Error* e) {
      if (e) last_error_ = e->message();
    });
    client_->OnEvent([this](const Event& e) { events_.push_back(e); });
    client_->Start();
    ASSERT_TRUE(RunUntil(io_, [&] {
      return client_->state() == ClientState::kReady ||
             client_->state() == ClientState::kDisconnected;
    }));
    ASSERT_EQ(client_->state(), ClientState::kReady) << last_error_;
  }

  Result<Reply> Call(Result<Command> command) {
    if (!command) return command.error();
    std::optional<Result<Reply>> got;
    client_->Send(std::move(*command), [&](Result<Reply> r) { got = std::move(r); });
    if (!RunUntil(io_, [&] { return got.has_value(); }))
      return Error(Errc::kTimeout, "test: no answer");
    return std::move(*got);
  }

  void TearDown() override {
    client_.reset();
    io_.run_for(50ms);  // pending handlers run with kUnavailable
    tor_.reset();
  }

  boost::asio::io_context io_;
  std::unique_ptr<TestTor> tor_;
  std::unique_ptr<ControlClient> client_;
  std::vector<Event> events_;
  std::string last_error_;
};

TEST_F(RealTor, SafeCookieIsChosenWhenTorOffersCookies) {
  Connect({"CookieAuthentication 1"});
  EXPECT_EQ(client_->auth_method(), AuthMethod::kSafeCookie);
  std::vector<std::string> keys = {"version", "status/bootstrap-phase"};
  auto reply = Call(GetInfo(keys));
  ASSERT_TRUE(reply.has_value()) << reply.error().message();
  auto info = ParseGetInfo(*reply);
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_FALSE(info->at("version").empty());
  auto phase = ParseBootstrapPhase(info->at("status/bootstrap-phase"));
  ASSERT_TRUE(phase.has_value()) << phase.error().message();
  EXPECT_LT(phase->progress, 100);  // DisableNetwork: never bootstraps
}

TEST_F(RealTor, PlainCookieWorksWhenTheClientAllowsOnlyIt) {
  Credentials creds;
  creds.allowed = {AuthMethod::kCookie};
  Connect({"CookieAuthentication 1"}, creds);
  EXPECT_EQ(client_->auth_method(), AuthMethod::kCookie);
  EXPECT_TRUE(Call(SignalCommand(Signal::kNewnym))->IsOk());
}

TEST_F(RealTor, HashedPasswordAuthenticatesAndAWrongOneIsRefused) {
  auto hash = RunCapture({"tor", "--quiet", "--hash-password", "qnet test pw"});
  ASSERT_TRUE(hash.has_value()) << hash.error().message();
  std::string h = *hash;
  while (!h.empty() && (h.back() == '\n' || h.back() == '\r')) h.pop_back();
  h = h.substr(h.rfind('\n') == std::string::npos ? 0 : h.rfind('\n') + 1);
  Credentials creds;
  creds.password = "qnet test pw";
  Connect({"HashedControlPassword " + h}, creds);
  EXPECT_EQ(client_->auth_method(), AuthMethod::kHashedPassword);

  ClientOptions o;
  o.reconnect = false;
  o.credentials.password = "wrong";
  ControlClient wrong(io_.get_executor(), UnixEndpoint{tor_->control_path()}, o);
  std::string why;
  wrong.OnState([&](ClientState, const Error* e) {
    if (e) why = e->message();
  });
  wrong.Start();
  ASSERT_TRUE(RunUntil(io_, [&] { return wrong.state() == ClientState::kDisconnected; }));
  EXPECT_NE(why.find("515"), std::string::npos) << why;
}

TEST_F(RealTor, NullAuthWhenTorAsksForNone) {
  Connect({});
  EXPECT_EQ(client_->auth_method(), AuthMethod::kNull);
}

TEST_F(RealTor, SubscribedEventsArriveAndNewnymIsAccepted) {
  Connect({"CookieAuthentication 1"}, {}, {EventType::kNotice, EventType::kStatusClient});
  auto newnym = Call(SignalCommand(Signal::kNewnym));
  ASSERT_TRUE(newnym.has_value());
  EXPECT_TRUE(newnym->IsOk()) << newnym->Summary();
  // RELOAD makes tor log a notice: the NOTICE event must reach the handler.
  ASSERT_TRUE(Call(SignalCommand(Signal::kReload))->IsOk());
  ASSERT_TRUE(RunUntil(io_, [&] {
    for (const Event& e : events_)
      if (auto* log = std::get_if<LogEvent>(&e); log && log->severity == "NOTICE") return true;
    return false;
  })) << tor_->Log();
  // A command tor refuses is a reply, not an error, and the connection stays.
  std::vector<std::string> bad = {"no-such-key"};
  auto refused = Call(GetInfo(bad));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, 552);
  EXPECT_EQ(client_->state(), ClientState::kReady);
}

TEST_F(RealTor, AddOnionWithAGeneratedKeyThenDelOnion) {
  Connect({"CookieAuthentication 1"});
  AddOnionRequest req;
  req.ports = {{80, "127.0.0.1:8080"}};
  auto added = Call(AddOnion(req));
  ASSERT_TRUE(added.has_value()) << added.error().message();
  ASSERT_TRUE(added->IsOk()) << added->Summary();
  auto fields = ParseGetInfo(*added);  // ServiceID=..., PrivateKey=...
  ASSERT_TRUE(fields.has_value());
  const std::string id = fields->at("ServiceID");
  EXPECT_EQ(id.size(), 56u);
  ASSERT_TRUE(fields->at("PrivateKey").starts_with("ED25519-V3:"));

  // The same key again gives the same service id.
  ASSERT_TRUE(Call(DelOnion(id))->IsOk());
  AddOnionRequest again;
  again.private_key_base64 = fields->at("PrivateKey").substr(11);
  again.ports = req.ports;
  again.discard_private_key = true;
  auto readded = Call(AddOnion(again));
  ASSERT_TRUE(readded.has_value() && readded->IsOk());
  EXPECT_EQ(ParseGetInfo(*readded)->at("ServiceID"), id);
  EXPECT_TRUE(Call(DelOnion(id))->IsOk());
  auto gone = Call(DelOnion(id));
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->code, 552);
}

}  // namespace
}  // namespace qnet::tor
