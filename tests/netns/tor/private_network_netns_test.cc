// The lab's private Tor network in namespaces this test creates: 3
// directory authorities and 2 relays (every one an exit) on
// 203.0.113.31-35, a client on 203.0.113.40, all joined by a bridge in a
// namespace of its own and to nothing else. Keys come from tor-gencert and
// `tor --list-fingerprint` at start. The client must reach bootstrap 100%,
// observed through qnet's control client; the time it takes is printed.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "qnet/base/process.h"
#include "qnet/netlink/link.h"
#include "qnet/netlink/route.h"
#include "qnet/netlink/socket.h"
#include "qnet/runtime/namespaces.h"
#include "qnet/tor/capability.h"
#include "qnet/tor/control_client.h"
#include "qnet/tor/private_network.h"
#include "tor_fixture.h"

namespace qnet::tor {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

#define ASSERT_OK(expr)                                                      \
  do {                                                                       \
    Status qnet_s_ = (expr);                                                 \
    ASSERT_TRUE(qnet_s_.ok()) << #expr << ": " << qnet_s_.error().message(); \
  } while (0)

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

class PrivateTorNetwork : public ::testing::Test {
 protected:
  struct Host {
    std::string name;
    runtime::PinnedNetns ns;
    ChildProcess tor;
    std::string dir;
  };

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates network namespaces)";
    if (!testing::TorInstalled() || ::access("/usr/bin/tor-gencert", X_OK) != 0)
      GTEST_SKIP() << "needs tor and tor-gencert (apt-get install tor)";
    char tmpl[] = "/tmp/qnet-tornet-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    auto br = runtime::PinnedNetns::Create(fmt::format("/run/netns/qnettest-{}-torbr", ::getpid()));
    ASSERT_TRUE(br.has_value()) << br.error().message();
    bridge_ = std::move(*br);
    auto bs = netlink::Socket::OpenInNetns(NETLINK_ROUTE, bridge_.fd());
    ASSERT_TRUE(bs.has_value());
    ASSERT_OK(netlink::CreateBridge(*bs, "br0"));
    ASSERT_OK(netlink::SetLinkUp(*bs, "br0", true));
    plan_ = LabNetworkPlan();
    for (size_t i = 0; i <= plan_.nodes.size(); ++i) {
      const bool client = i == plan_.nodes.size();
      IpAddr addr = client ? IpAddr::V4(203, 0, 113, 40) : plan_.nodes[i].address;
      AddHost(*bs, client ? "client" : plan_.nodes[i].nickname, addr, static_cast<int>(i));
      if (HasFatalFailure()) return;
    }
    WriteFile(dir_ + "/resolv.conf", "nameserver 203.0.113.53\n");
  }

  void AddHost(netlink::Socket& bridge_sock, const std::string& name, const IpAddr& addr, int i) {
    auto ns =
        runtime::PinnedNetns::Create(fmt::format("/run/netns/qnettest-{}-tor{}", ::getpid(), i));
    ASSERT_TRUE(ns.has_value()) << ns.error().message();
    auto sock = netlink::Socket::OpenInNetns(NETLINK_ROUTE, ns->fd());
    ASSERT_TRUE(sock.has_value());
    const std::string port = fmt::format("p{}", i);
    ASSERT_OK(netlink::CreateVeth(
        *sock, {.name = "eth0", .peer_name = port, .peer_netns_fd = bridge_.fd()}));
    ASSERT_OK(netlink::SetMaster(bridge_sock, port, "br0"));
    ASSERT_OK(netlink::SetLinkUp(bridge_sock, port, true));
    ASSERT_OK(netlink::AddAddress(*sock, "eth0", IpPrefix(addr, 24)));
    ASSERT_OK(netlink::SetLinkUp(*sock, "eth0", true));
    ASSERT_OK(netlink::SetLinkUp(*sock, "lo", true));
    auto host = std::make_unique<Host>();
    host->name = name;
    host->ns = std::move(*ns);
    host->dir = dir_ + "/" + name;
    fs::create_directories(host->dir + "/data/keys");
    fs::permissions(host->dir, fs::perms::owner_all, fs::perm_options::replace);
    fs::permissions(host->dir + "/data", fs::perms::owner_all, fs::perm_options::replace);
    hosts_.push_back(std::move(host));
  }

  void TearDown() override {
    client_.reset();
    for (auto& h : hosts_) {
      if (h->tor.valid()) {
        (void)h->tor.Kill(SIGTERM);
        if (!h->tor.WaitFor(5s).has_value()) (void)h->tor.Kill(SIGKILL);
      }
    }
    hosts_.clear();  // unpins the namespaces
    bridge_ = {};
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  // Keys for every node: authority keys and certificate, relay identity.
  void MakeKeys() {
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      NetworkNode& node = plan_.nodes[i];
      Host& h = *hosts_[i];
      if (node.authority) {
        const std::string keys = h.dir + "/data/keys";
        auto gencert =
            Spawn({.argv = {"tor-gencert", "--create-identity-key", "-m", "12", "-a",
                            fmt::format("{}:{}", node.address, plan_.dir_port), "-i",
                            keys + "/authority_identity_key", "-s", keys + "/authority_signing_key",
                            "-c", keys + "/authority_certificate", "--passphrase-fd", "0"},
                   .fds = {-1, -1, -1}});
        ASSERT_TRUE(gencert.has_value()) << gencert.error().message();
        auto code = gencert->WaitFor(60s);
        ASSERT_TRUE(code.has_value() && *code == 0) << "tor-gencert failed";
        auto v3 = CertificateFingerprint(ReadFile(keys + "/authority_certificate"));
        ASSERT_TRUE(v3.has_value()) << v3.error().message();
        node.v3_identity = *v3;
      }
      auto rc = RenderNodeTorrc(plan_, node, Paths(h), {});
      ASSERT_TRUE(rc.has_value()) << rc.error().message();
      WriteFile(h.dir + "/torrc.keys", *rc);
      auto listed =
          RunCapture({"tor", "--list-fingerprint", "-f", h.dir + "/torrc.keys", "--hush"});
      ASSERT_TRUE(listed.has_value()) << listed.error().message();
      auto fp = ListedFingerprint(*listed);
      ASSERT_TRUE(fp.has_value()) << fp.error().message() << ": " << *listed;
      node.fingerprint = *fp;
    }
  }

  NodePaths Paths(const Host& h) const {
    return {h.dir + "/data", h.dir + "/log", dir_ + "/resolv.conf"};
  }

  void StartTor(Host& h, const std::string& torrc) {
    WriteFile(h.dir + "/torrc", torrc);
    // tor's own complaints before its log opens (a bad option) land here.
    UniqueFd out(::open((h.dir + "/stdout").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_TRUE(out);
    ASSERT_OK(netlink::RunInNetns(h.ns.fd(), [&]() -> Status {
      QNET_ASSIGN_OR_RETURN(
          h.tor, Spawn({.argv = {"tor", "-f", h.dir + "/torrc", "--ignore-missing-torrc"},
                        .fds = {-1, out.get(), out.get()}}));
      return OkStatus();
    }));
  }

  // Fails the test (with its log) for a tor that exited: a bad config
  // makes tor exit and the client would then never bootstrap.
  void CheckAlive() {
    for (auto& h : hosts_) {
      if (h->tor.valid() && h->tor.WaitFor(0ms).has_value())
        FAIL() << h->name << "'s tor exited: " << ReadFile(h->dir + "/stdout")
               << ReadFile(h->dir + "/log");
    }
  }

  // Keys, the five nodes and a client with a ControlSocket: its path.
  std::string StartNetworkAndClient() {
    MakeKeys();
    if (HasFatalFailure()) return {};
    auto dirauth = DirAuthorityLines(plan_);
    EXPECT_TRUE(dirauth.has_value()) << dirauth.error().message();
    if (!dirauth) return {};
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      auto rc = RenderNodeTorrc(plan_, plan_.nodes[i], Paths(*hosts_[i]), *dirauth);
      EXPECT_TRUE(rc.has_value()) << rc.error().message();
      if (!rc) return {};
      StartTor(*hosts_[i], *rc);
    }
    Host& client = *hosts_.back();
    const std::string control = client.dir + "/control";
    auto rc = RenderClientTorrc(client.dir + "/data", control, client.dir + "/log", *dirauth);
    EXPECT_TRUE(rc.has_value()) << rc.error().message();
    if (!rc) return {};
    StartTor(client, *rc);
    return control;
  }

  std::string dir_;
  runtime::PinnedNetns bridge_;
  PrivateNetworkPlan plan_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::unique_ptr<ControlClient> client_;
};

TEST_F(PrivateTorNetwork, ClientBootstrapsToHundredPercent) {
  MakeKeys();
  ASSERT_FALSE(HasFatalFailure());
  auto dirauth = DirAuthorityLines(plan_);
  ASSERT_TRUE(dirauth.has_value()) << dirauth.error().message();
  const auto network_start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < plan_.nodes.size(); ++i) {
    auto rc = RenderNodeTorrc(plan_, plan_.nodes[i], Paths(*hosts_[i]), *dirauth);
    ASSERT_TRUE(rc.has_value()) << rc.error().message();
    StartTor(*hosts_[i], *rc);
  }
  Host& client = *hosts_.back();
  const std::string control = client.dir + "/control";
  auto rc = RenderClientTorrc(client.dir + "/data", control, client.dir + "/log", *dirauth);
  ASSERT_TRUE(rc.has_value()) << rc.error().message();
  StartTor(client, *rc);

  boost::asio::io_context io;
  ClientOptions o;
  o.backoff_initial = 100ms;
  o.backoff_max = 500ms;  // the socket appears a moment after tor starts
  o.events = {EventType::kStatusClient};
  client_ = std::make_unique<ControlClient>(io.get_executor(), UnixEndpoint{control}, o);
  int progress = 0;
  client_->OnEvent([&](const Event& e) {
    if (auto* s = std::get_if<StatusClientEvent>(&e); s && s->bootstrap)
      progress = std::max(progress, s->bootstrap->progress);
  });
  bool asked = false;
  client_->OnState([&](ClientState s, const Error*) {
    if (s != ClientState::kReady || asked) return;
    asked = true;  // the phase reached before the subscription
    std::vector<std::string> keys = {"status/bootstrap-phase"};
    client_->Send(*GetInfo(keys), [&](Result<Reply> r) {
      if (!r) return;
      auto info = ParseGetInfo(*r);
      if (!info) return;
      auto phase = ParseBootstrapPhase(info->at("status/bootstrap-phase"));
      if (phase) progress = std::max(progress, phase->progress);
    });
  });
  client_->Start();
  const auto deadline = network_start + 120s;
  while (progress < 100 && std::chrono::steady_clock::now() < deadline) {
    io.run_for(200ms);
    CheckAlive();
    ASSERT_FALSE(HasFatalFailure());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - network_start).count();
  ASSERT_EQ(progress, 100) << "client log:\n" << ReadFile(client.dir + "/log");
  std::printf("private Tor network: client bootstrapped 100%% %.1f s after a cold start\n",
              seconds);
  RecordProperty("bootstrap_seconds", fmt::format("{:.1f}", seconds));
}

class CountingCommitter final : public nft::Committer {
 public:
  Status Commit(const nft::Batch&) override {
    ++commits;
    return OkStatus();
  }
  int commits = 0;
};

// The tor capability's gate against a real tor: closed while it
// bootstraps, open at 100% (one transaction), closed again within a couple
// of seconds when tor is SIGKILLed.
TEST_F(PrivateTorNetwork, CapabilityGateOpensAtHundredPercentAndClosesWhenTorIsKilled) {
  const std::string control = StartNetworkAndClient();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_FALSE(control.empty());
  const auto start = std::chrono::steady_clock::now();
  // The capability finds tor's socket and cookie in its data_dir.
  const std::string run_dir = dir_ + "/cap";
  fs::create_directories(run_dir);
  fs::create_symlink(control, run_dir + "/control");
  // The cookie is read without following a final symlink: a copy, once
  // tor has written it.
  const std::string cookie = hosts_.back()->dir + "/data/control_auth_cookie";
  for (int i = 0; i < 300 && !fs::exists(cookie); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(fs::exists(cookie));
  fs::copy_file(cookie, run_dir + "/control_auth_cookie");
  qube::AgentConfig config;
  config.qube = "sys-whonix";
  config.role = qube::Role::kTor;
  config.addr4 = IpAddr::V4(10, 137, 0, 5);
  config.uplink = qube::Uplink{.ifname = "eth0",
                               .addr4 = IpPrefix::Host(config.addr4),
                               .gateway4 = IpAddr::V4(10, 137, 0, 4)};
  CountingCommitter nft;
  TorCapabilityParams params{.id_base = 1u << 30, .supervise = false};
  params.paths.torrc_dir = run_dir;
  params.paths.data_dir = run_dir;
  TorCapability cap(nft, params);
  ASSERT_TRUE(cap.Install(config).has_value());
  cap.Installed(config, false);
  int highest_closed = 0;
  while (cap.gate() == Gate::kClosed && std::chrono::steady_clock::now() < start + 120s) {
    std::this_thread::sleep_for(100ms);
    cap.Tick();
    if (cap.gate() == Gate::kClosed && cap.bootstrap().progress())
      highest_closed = std::max(highest_closed, cap.bootstrap().progress()->progress);
    CheckAlive();
    ASSERT_FALSE(HasFatalFailure());
  }
  ASSERT_EQ(cap.gate(), Gate::kOpen) << ReadFile(hosts_.back()->dir + "/log");
  EXPECT_LT(highest_closed, 100);
  EXPECT_EQ(cap.bootstrap().progress()->progress, 100);
  EXPECT_EQ(nft.commits, 1);
  std::printf("gate opened %.1f s after the network started\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

  ASSERT_OK(hosts_.back()->tor.Kill(SIGKILL));
  (void)hosts_.back()->tor.WaitFor(5s);
  const auto killed = std::chrono::steady_clock::now();
  while (cap.gate() == Gate::kOpen && std::chrono::steady_clock::now() < killed + 10s) {
    std::this_thread::sleep_for(50ms);
    cap.Tick();
  }
  const double close_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  EXPECT_EQ(cap.gate(), Gate::kClosed);
  EXPECT_LT(close_s, 2.0);
  EXPECT_EQ(nft.commits, 2);
  std::printf("gate closed %.2f s after tor was killed\n", close_s);
}

}  // namespace
}  // namespace qnet::tor
