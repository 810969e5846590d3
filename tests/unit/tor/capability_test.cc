// The tor capability: its plan from the qube's config, its section, and the
// gate driven by a (fake) tor's control port: open only at bootstrap 100%,
// closed again when the connection drops.
// glibc's netinet/in.h (through Boost.Asio) before linux/in.h (the nft
// headers): the other order does not compile.
// clang-format off
#include <netinet/in.h>
#include <boost/asio/io_context.hpp>

#include "qnet/tor/capability.h"
// clang-format on

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fake_tor.h"
#include "qnet/tor/auth.h"
#include "qnet/tor/control_command.h"

namespace qnet::tor {
namespace {

using namespace std::chrono_literals;
using testing::Answer;
using testing::FakeTor;

constexpr uint32_t kIdBase = 1u << 30;

qube::AgentConfig Gateway() {
  qube::AgentConfig c;
  c.qube = "sys-whonix";
  c.role = qube::Role::kTor;
  c.addr4 = IpAddr::V4(10, 137, 0, 5);
  qube::Uplink u;
  u.ifname = "eth0";
  u.addr4 = IpPrefix::Host(c.addr4);
  u.gateway4 = IpAddr::V4(10, 137, 0, 4);
  c.uplink = u;
  return c;
}

const std::string kAuthority =
    "DirAuthority auth1 orport=5000 no-v2 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
    "203.0.113.31:7000 89ABCDEF0123456789ABCDEF0123456789ABCDEF";

class RecordingCommitter final : public nft::Committer {
 public:
  Status Commit(const nft::Batch&) override {
    ++commits;
    return OkStatus();
  }
  int commits = 0;
};

TEST(TorPlan, TorsUidIsTheHostIdOfTheQubesTorUid) {
  auto plan = PlanGateway(Gateway(), kIdBase);
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  EXPECT_EQ(plan->rules.tor_uid, kIdBase + kTorUid);
  EXPECT_EQ(plan->rules.uplink, "eth0");
  EXPECT_EQ(plan->rules.gateway_address, IpAddr::V4(10, 137, 0, 5));
  EXPECT_EQ(plan->torrc.gateway_address, IpAddr::V4(10, 137, 0, 5));
  EXPECT_EQ(plan->torrc.trans_port, plan->rules.trans_port);
  EXPECT_EQ(plan->torrc.dns_port, plan->rules.dns_port);
  EXPECT_EQ(plan->torrc.control_socket, "/tmp/qnet-tor/control");
  EXPECT_EQ(plan->torrc.data_directory, "/tmp/qnet-tor");
}

TEST(TorPlan, RefusesAnUncontainedQubeAndAGatewayWithoutUplink) {
  auto p = PlanGateway(Gateway(), 0);
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("host id range"), std::string::npos);
  qube::AgentConfig c = Gateway();
  c.uplink.reset();
  ASSERT_FALSE(PlanGateway(c, kIdBase).has_value());
}

TEST(TorSection, RoundTripsOptionsAndLabAuthorities) {
  GatewaySection s;
  s.options.strict_nodes = true;
  s.options.exit_nodes = {*ParseNodeSpec("{de}")};
  s.lab = true;
  s.dir_authorities = {kAuthority};
  auto back = GatewaySectionFromJson(GatewaySectionToJson(s));
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, s);
}

TEST(TorSection, RefusesAnInjectedLineUnknownFieldsAndOptionsOffTheAllowList) {
  for (const char* bad : {
           R"({"lab": {"dir_authorities": ["DirAuthority x\nControlPort 9051"]}})",
           R"({"lab": {"dir_authorities": ["ControlPort 9051"]}})",
           R"({"lab": {"authorities": []}})",
           R"({"torrc": "ControlPort 9051"})",
           R"({"options": {"ControlPort": 9051}})",
           R"([])",
           R"(not json)",
       }) {
    auto s = GatewaySectionFromJson(bad);
    EXPECT_FALSE(s.has_value()) << bad;
  }
}

TEST(TorPlan, LabSectionPointsTorAtThePrivateNetwork) {
  qube::AgentConfig c = Gateway();
  GatewaySection s;
  s.dir_authorities = {kAuthority};
  c.sections["tor"] = GatewaySectionToJson(s);
  auto plan = PlanGateway(c, kIdBase);
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  auto torrc = GatewayTorrc(*plan);
  ASSERT_TRUE(torrc.has_value()) << torrc.error().message();
  EXPECT_NE(torrc->find("TestingTorNetwork 1\n"), std::string::npos);
  EXPECT_NE(torrc->find(kAuthority + "\n"), std::string::npos);
  EXPECT_NE(torrc->find("TransPort 10.137.0.5:9040"), std::string::npos);
  // The supervised tor's control port is on the qube's loopback only.
  EXPECT_NE(torrc->find("ControlPort 127.0.0.1:9051\nCookieAuthentication 1\n"), std::string::npos);
  EXPECT_EQ(torrc->find("ControlSocket"), std::string::npos);
  EXPECT_EQ(torrc->find("DisableNetwork"), std::string::npos);
  // Without the lab: the public network's defaults, no testing options.
  plan = PlanGateway(Gateway(), kIdBase);
  EXPECT_EQ(GatewayTorrc(*plan)->find("TestingTorNetwork"), std::string::npos);
  EXPECT_EQ(GatewayTorrc(*plan)->find("DisableNetwork"), std::string::npos);
  // The lab without its Tor network: tor never tries the public network.
  s.dir_authorities.clear();
  s.lab = true;
  c.sections["tor"] = GatewaySectionToJson(s);
  plan = PlanGateway(c, kIdBase);
  ASSERT_TRUE(plan.has_value());
  EXPECT_NE(GatewayTorrc(*plan)->find("DisableNetwork 1\n"), std::string::npos);
}

TEST(TorCapability, AsksForTorOnlyOnceItsRulesAreInAndFollowsItsPid) {
  RecordingCommitter nft;
  char tmpl[] = "/tmp/qnet-torcap-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  TorCapabilityParams p{.id_base = kIdBase};
  p.paths.torrc_dir = dir;
  {
    TorCapability cap(nft, p);
    EXPECT_TRUE(cap.Daemons().empty());
    ASSERT_TRUE(cap.Install(Gateway()).has_value());
    EXPECT_TRUE(cap.Daemons().empty());  // not committed yet
    cap.Installed(Gateway(), false);
    auto daemons = cap.Daemons();
    ASSERT_EQ(daemons.size(), 1u);
    EXPECT_EQ(daemons[0].name, "tor");
    EXPECT_EQ(daemons[0].uid, kTorUid);
    EXPECT_FALSE(daemons[0].own_netns);
    EXPECT_EQ(daemons[0].argv.back(), dir + "/torrc");
    EXPECT_TRUE(std::filesystem::exists(dir + "/torrc"));
    EXPECT_TRUE(qube::ValidateService(daemons[0]).ok());
    // tor gone (pid 0): the gate stays closed, nothing to commit.
    cap.DaemonStates({{.name = "tor", .pid = 0}});
    EXPECT_EQ(cap.gate(), Gate::kClosed);
    EXPECT_EQ(nft.commits, 0);
  }
  std::filesystem::remove_all(dir);
}

TEST(BootstrapGate, OpensOnlyAt100AndClosesOnDisconnect) {
  BootstrapGate g;
  EXPECT_EQ(g.gate(), Gate::kClosed);
  g.Connected();
  g.Bootstrap({.progress = 99, .tag = "ap_handshake_done"});
  EXPECT_EQ(g.gate(), Gate::kClosed);
  g.Bootstrap({.progress = 100, .tag = "done"});
  EXPECT_EQ(g.gate(), Gate::kOpen);
  g.Disconnected();
  EXPECT_EQ(g.gate(), Gate::kClosed);
  g.Connected();
  EXPECT_EQ(g.gate(), Gate::kClosed);  // a new connection starts closed
}

// A fake tor that authenticates with SAFECOOKIE only and reports
// `progress` for status/bootstrap-phase.
struct SafeCookieTor {
  std::vector<uint8_t> cookie = std::vector<uint8_t>(32, 0x5a);
  std::vector<uint8_t> server_nonce = std::vector<uint8_t>(32, 0x17);
  std::string cookie_path;
  int progress = 50;
  std::vector<std::string> methods_used;

  FakeTor::Script Script() {
    return [this](const std::string& line, int) -> Answer {
      if (line == "PROTOCOLINFO 1")
        return {fmt::format(
            "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE=\"{}\"\r\n"
            "250 OK\r\n",
            cookie_path)};
      if (line.starts_with("AUTHCHALLENGE SAFECOOKIE ")) {
        auto nonce = *HexDecode(line.substr(25));
        expected = HexEncode(SafeCookieClientHash(cookie, nonce, server_nonce));
        return {fmt::format("250 AUTHCHALLENGE SERVERHASH={} SERVERNONCE={}\r\n",
                            HexEncode(SafeCookieServerHash(cookie, nonce, server_nonce)),
                            HexEncode(server_nonce))};
      }
      if (line.starts_with("AUTHENTICATE ")) {
        methods_used.push_back(line.substr(13) == expected ? "SAFECOOKIE" : "OTHER");
        return {line.substr(13) == expected ? "250 OK\r\n" : "515 Authentication failed\r\n"};
      }
      if (line.starts_with("SETEVENTS")) return {"250 OK\r\n"};
      if (line == "GETINFO status/bootstrap-phase")
        return {fmt::format(
            "250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS={} TAG=x SUMMARY=\"x\"\r\n"
            "250 OK\r\n",
            progress)};
      if (line == "SIGNAL NEWNYM") return {"250 OK\r\n"};
      return {"510 Unrecognized command\r\n"};
    };
  }
  std::string expected;
};

bool Pump(boost::asio::io_context& io, TorCapability& cap, const std::function<bool()>& done,
          std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < until) {
    io.run_for(10ms);
    if (io.stopped()) io.restart();
    cap.Tick();
  }
  return done();
}

TEST(TorCapability, GateOpensAtBootstrap100AndClosesWhenTorGoes) {
  boost::asio::io_context io;
  SafeCookieTor tor;
  auto fake = std::make_unique<FakeTor>(io, tor.Script());
  tor.cookie_path = "/nonexistent/cookie";  // the capability reads its own path, not this
  const std::string cookie_file = fake->dir() + "/control_auth_cookie";
  std::ofstream(cookie_file, std::ios::binary)
      .write(reinterpret_cast<const char*>(tor.cookie.data()), 32);

  RecordingCommitter nft;
  TorCapabilityParams p{.id_base = kIdBase, .supervise = false};
  p.paths.torrc_dir = fake->dir();
  p.paths.data_dir = fake->dir();
  TorCapability cap(nft, p);
  auto batch = cap.Install(Gateway());
  ASSERT_TRUE(batch.has_value()) << batch.error().message();
  cap.Installed(Gateway(), false);
  EXPECT_EQ(cap.gate(), Gate::kClosed);
  EXPECT_TRUE(std::filesystem::exists(p.paths.torrc()));

  // Connected at 50%: closed, and nothing committed for the gate.
  ASSERT_TRUE(Pump(io, cap, [&] { return cap.bootstrap().progress().has_value(); }));
  EXPECT_EQ(tor.methods_used, std::vector<std::string>{"SAFECOOKIE"});
  EXPECT_EQ(cap.bootstrap().progress()->progress, 50);
  EXPECT_EQ(cap.gate(), Gate::kClosed);
  EXPECT_EQ(nft.commits, 0);

  // Bootstrap reaches 100%: the gate opens, in one transaction.
  fake->Push("650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"\r\n");
  ASSERT_TRUE(Pump(io, cap, [&] { return cap.gate() == Gate::kOpen; }));
  EXPECT_EQ(nft.commits, 1);

  // tor goes away: the gate closes.
  fake.reset();
  ASSERT_TRUE(Pump(io, cap, [&] { return cap.gate() == Gate::kClosed; }));
  EXPECT_EQ(nft.commits, 2);
}

TEST(TorCapability, AdoptedGateClosesUntilTorSaysItIsBootstrapped) {
  RecordingCommitter nft;
  TorCapabilityParams p{.id_base = kIdBase, .supervise = false};
  char tmpl[] = "/tmp/qnet-torcap-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  p.paths.torrc_dir = dir;
  p.paths.data_dir = dir + "/data";
  {
    TorCapability cap(nft, p);
    cap.Adopt(Gateway(), {});
    EXPECT_EQ(cap.gate(), Gate::kClosed);
    EXPECT_EQ(nft.commits, 1);  // the gate a previous agent may have opened, closed
  }
  std::filesystem::remove_all(dir);
}

TEST(TorCapability, ServiceAnswersStatusAndRefusesUnknownCalls) {
  boost::asio::io_context io;
  SafeCookieTor tor;
  tor.progress = 100;
  FakeTor fake(io, tor.Script());
  tor.cookie_path = fake.dir() + "/control_auth_cookie";
  std::ofstream(tor.cookie_path, std::ios::binary)
      .write(reinterpret_cast<const char*>(tor.cookie.data()), 32);
  RecordingCommitter nft;
  TorCapabilityParams p{.id_base = kIdBase, .supervise = false};
  p.paths.torrc_dir = fake.dir();
  p.paths.data_dir = fake.dir();
  TorCapability cap(nft, p);
  ASSERT_TRUE(cap.Install(Gateway()).has_value());
  cap.Installed(Gateway(), false);
  ASSERT_TRUE(Pump(io, cap, [&] { return cap.gate() == Gate::kOpen; }));

  auto services = cap.Services();
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0].name, "qnet.Tor");
  qrexec::ServiceRequest req;
  req.arg = "status";
  auto reply = services[0].handler(req);
  EXPECT_EQ(reply.exit_code, 0) << reply.err;
  EXPECT_NE(reply.out.find("\"gate\":\"open\""), std::string::npos) << reply.out;
  EXPECT_NE(reply.out.find("\"progress\":100"), std::string::npos) << reply.out;

  // newnym waits for tor's answer: the fake is served from another thread.
  std::atomic<bool> stop = false;
  std::thread server([&] {
    while (!stop) io.run_for(10ms);
  });
  req.arg = "newnym";
  reply = services[0].handler(req);
  EXPECT_EQ(reply.exit_code, 0) << reply.err;
  req.arg = "reboot";
  reply = services[0].handler(req);
  EXPECT_NE(reply.exit_code, 0);
  EXPECT_NE(reply.err.find("status, circuits, newnym"), std::string::npos);
  stop = true;
  server.join();
}

}  // namespace
}  // namespace qnet::tor
