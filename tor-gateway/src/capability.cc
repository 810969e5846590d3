// The tor capability: rules from the plan, the gate from the control
// connection, and the qnet.Tor service (status, circuits, newnym).
// glibc's netinet/in.h (through Boost.Asio) must come before linux/in.h
// (pulled in by the nft headers): the other order does not compile.
// clang-format off
#include <netinet/in.h>
#include <boost/asio/io_context.hpp>

#include "qnet/tor/capability.h"
// clang-format on

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "qnet/base/fd.h"
#include "qnet/base/log.h"
#include "qnet/tor/control_client.h"

namespace qnet::tor {

// The control connection and its io_context; runs only when polled.
class TorCapability::Control {
 public:
  Control(ControlEndpoint endpoint, const std::string& cookie, BootstrapGate& gate,
          std::chrono::milliseconds timeout)
      : gate_(gate), timeout_(timeout) {
    ClientOptions o;
    o.command_timeout = timeout;
    o.backoff_initial = std::chrono::milliseconds(200);
    o.backoff_max = std::chrono::milliseconds(2000);
    // SAFECOOKIE only: whatever answers on the socket must prove it knows
    // the cookie before the agent answers, and learns only an HMAC of it
    // (COOKIE would send the named file's bytes to it).
    o.credentials.allowed = {AuthMethod::kSafeCookie};
    o.credentials.cookie_file = cookie;
    o.events = {EventType::kStatusClient};
    client_ = std::make_unique<ControlClient>(io_.get_executor(), std::move(endpoint), o);
    client_->OnState([this](ClientState s, const Error* e) { OnState(s, e); });
    client_->OnEvent([this](const Event& e) {
      if (const auto* sc = std::get_if<StatusClientEvent>(&e); sc && sc->bootstrap)
        gate_.Bootstrap(*sc->bootstrap);
    });
    client_->Start();
  }
  ~Control() {
    client_->Stop();
    io_.poll();
  }

  void Poll() {
    io_.poll();
    if (io_.stopped()) io_.restart();
  }
  ClientState state() const { return client_->state(); }

  // Sends `command` and runs the io_context until it is answered (bounded
  // by the command's deadline): the agent's services are synchronous.
  Result<Reply> Call(Command command) {
    if (client_->state() != ClientState::kReady)
      return Fail(Errc::kUnavailable, fmt::format("tor's control port is not connected ({})",
                                                  ClientStateName(client_->state())));
    std::optional<Result<Reply>> out;
    client_->Send(std::move(command), [&out](Result<Reply> r) { out = std::move(r); });
    const auto until = std::chrono::steady_clock::now() + timeout_ + std::chrono::seconds(1);
    while (!out && std::chrono::steady_clock::now() < until) {
      io_.run_for(std::chrono::milliseconds(20));
      if (io_.stopped()) io_.restart();
    }
    if (!out) return Fail(Errc::kTimeout, "tor did not answer");
    return std::move(*out);
  }

 private:
  void OnState(ClientState s, const Error* e) {
    if (s == ClientState::kReady) {
      gate_.Connected();
      spdlog::info("tor: control port connected");
      // The phase tor reached before we subscribed: events report only changes.
      std::vector<std::string> key = {"status/bootstrap-phase"};
      auto cmd = GetInfo(key);
      if (cmd)
        client_->Send(std::move(*cmd), [this](Result<Reply> r) {
          if (!r) return;
          auto kv = ParseGetInfo(*r);
          if (!kv) return;
          auto it = kv->find("status/bootstrap-phase");
          if (it == kv->end()) return;
          if (auto phase = ParseBootstrapPhase(it->second)) gate_.Bootstrap(*phase);
        });
    } else if (s == ClientState::kDisconnected) {
      if (gate_.gate() == Gate::kOpen)
        spdlog::warn("tor: control connection lost ({}); closing the gate",
                     e ? e->message() : "closed");
      gate_.Disconnected();
    }
  }

  boost::asio::io_context io_;
  BootstrapGate& gate_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<ControlClient> client_;
};

namespace {

const char* GateName(Gate g) { return g == Gate::kOpen ? "open" : "closed"; }

qrexec::ServiceReply Refused(std::string message) {
  return {static_cast<int>(qube::AgentReply::kRefused), {}, std::move(message) + "\n"};
}

nlohmann::json CircuitJson(const CircuitStatus& c) {
  static constexpr const char* kNames[] = {"LAUNCHED", "BUILT",  "GUARD_WAIT",
                                           "EXTENDED", "FAILED", "CLOSED"};
  nlohmann::json j = {{"id", c.id},
                      {"status", kNames[static_cast<int>(c.status)]},
                      {"path", c.path},
                      {"purpose", c.purpose}};
  if (c.socks_username) j["socks_username"] = *c.socks_username;
  return j;
}

}  // namespace

TorCapability::TorCapability(nft::Committer& nft, TorCapabilityParams params)
    : nft_(nft), params_(std::move(params)) {}

TorCapability::~TorCapability() = default;

Result<nft::Batch> TorCapability::Install(const qube::AgentConfig& config) {
  QNET_ASSIGN_OR_RETURN(GatewayPlan plan,
                        PlanGateway(config, params_.id_base, params_.paths, params_.supervise));
  QNET_TRY(GatewayTorrc(plan));  // a torrc tor would refuse is refused here
  // A reinstall keeps the gate where tor's state puts it.
  QNET_ASSIGN_OR_RETURN(GatewayRules rules, BuildGatewayRules(plan.rules, bootstrap_.gate()));
  return ApplyBatch(rules);
}

void TorCapability::Installed(const qube::AgentConfig& config, bool closed) {
  // Install's contents carried the gate as bootstrap_ had it; a closed
  // install is Install's too (its rules open nothing user input made).
  committed_gate_ = bootstrap_.gate();
  installed_ = true;
  (void)closed;
  Configure(config);
}

void TorCapability::Adopt(const qube::AgentConfig& config, const nft::TableState&) {
  // An agent restarted inside a running qube: the gate may be open in the
  // kernel. Close it until the control connection says tor is at 100%.
  committed_gate_ = Gate::kOpen;
  installed_ = true;
  Configure(config);
  SyncGate();
}

void TorCapability::Forget() {
  installed_ = false;
  committed_gate_ = Gate::kClosed;
}

void TorCapability::Configure(const qube::AgentConfig& config) {
  auto plan = PlanGateway(config, params_.id_base, params_.paths, params_.supervise);
  if (!plan) {
    spdlog::error("tor: {}", plan.error().message());
    return;
  }
  auto torrc = GatewayTorrc(*plan);
  if (!torrc) {
    spdlog::error("tor: {}", torrc.error().message());
    return;
  }
  if (::mkdir(params_.paths.torrc_dir.c_str(), 0755) != 0 && errno != EEXIST)
    spdlog::error("tor: mkdir {}: {}", params_.paths.torrc_dir, std::strerror(errno));
  if (Status s = WriteFileAtomic(params_.paths.torrc(), *torrc, 0644); !s)
    spdlog::error("tor: torrc: {}", s.error().message());
  plan_ = std::move(*plan);
  if (!params_.supervise && !control_) Connect(0);
}

void TorCapability::Connect(pid_t pid) {
  control_.reset();
  bootstrap_.Disconnected();
  if (pid == 0) {
    control_ =
        std::make_unique<Control>(UnixEndpoint{params_.paths.control_socket()},
                                  params_.paths.cookie_file(), bootstrap_, params_.command_timeout);
    return;
  }
  control_ =
      std::make_unique<Control>(TcpEndpoint{"127.0.0.1", kTorControlPort},
                                fmt::format("/proc/{}/root{}", pid, params_.paths.cookie_file()),
                                bootstrap_, params_.command_timeout);
}

std::vector<qube::SupervisedService> TorCapability::Daemons() const {
  // Only once the rules are in: tor never runs before its gateway's rules.
  if (!params_.supervise || !installed_ || !plan_) return {};
  return {TorService(params_.paths)};
}

void TorCapability::DaemonStates(const std::vector<qube::ServiceState>& states) {
  if (!params_.supervise) return;
  pid_t pid = 0;
  for (const qube::ServiceState& s : states)
    if (s.name == "tor") pid = s.pid;
  if (pid == tor_pid_) return;
  tor_pid_ = pid;
  if (pid == 0) {
    // tor exited: the gate closes now, not when the socket notices.
    control_.reset();
    bootstrap_.Disconnected();
    spdlog::info("tor: not running; gate closing");
  } else {
    spdlog::info("tor: running as pid {}", pid);
    Connect(pid);
  }
  SyncGate();
}

void TorCapability::SyncGate() {
  if (!installed_) return;
  const Gate want = bootstrap_.gate();
  if (want == committed_gate_) return;
  if (Status s = nft_.Commit(GateBatch(want)); !s) {
    // Opening failed: it stays closed. Closing failed: retried next tick;
    // tor's ports refuse connections themselves once tor is gone.
    spdlog::error("tor: gate {}: {}", GateName(want), s.error().message());
    return;
  }
  committed_gate_ = want;
  spdlog::info("tor: gate {} (bootstrap {}%)", GateName(want),
               bootstrap_.progress() ? bootstrap_.progress()->progress : 0);
}

void TorCapability::Tick() {
  if (control_) control_->Poll();
  SyncGate();
}

qrexec::ServiceReply TorCapability::Call(const std::string& arg) {
  if (control_) control_->Poll();
  SyncGate();
  if (arg == "status") {
    nlohmann::json j = {{"gate", GateName(committed_gate_)},
                        {"control", control_ ? ClientStateName(control_->state()) : "none"},
                        {"tor_pid", tor_pid_}};
    if (const auto& p = bootstrap_.progress()) {
      j["bootstrap"] = {{"progress", p->progress}, {"tag", p->tag}, {"summary", p->summary}};
      if (p->warning) j["bootstrap"]["warning"] = *p->warning;
    }
    return {0, j.dump() + "\n", {}};
  }
  if ((arg == "circuits" || arg == "newnym") && !control_)
    return Refused("tor: not running (no control connection)");
  if (arg == "circuits") {
    std::vector<std::string> key = {"circuit-status"};
    auto cmd = GetInfo(key);
    if (!cmd) return Refused(cmd.error().message());
    auto reply = control_->Call(std::move(*cmd));
    if (!reply) return Refused(fmt::format("tor: {}", reply.error().message()));
    auto kv = ParseGetInfo(*reply);
    if (!kv) return Refused(fmt::format("tor: {}", kv.error().message()));
    auto list = ParseCircuitStatusList((*kv)["circuit-status"]);
    if (!list) return Refused(fmt::format("tor: {}", list.error().message()));
    nlohmann::json out = nlohmann::json::array();
    for (const CircuitStatus& c : *list) out.push_back(CircuitJson(c));
    return {0, out.dump() + "\n", {}};
  }
  if (arg == "newnym") {
    auto reply = control_->Call(SignalCommand(Signal::kNewnym));
    if (!reply) return Refused(fmt::format("tor: {}", reply.error().message()));
    if (!reply->IsOk()) return Refused(fmt::format("tor: {}", reply->Summary()));
    return {0, "newnym\n", {}};
  }
  return Refused(fmt::format("tor: unknown call '{}' (status, circuits, newnym)", arg));
}

std::vector<qrexec::ServiceEntry> TorCapability::Services() {
  return {{"qnet.Tor", [this](qrexec::ServiceRequest& req) { return Call(req.arg); }}};
}

}  // namespace qnet::tor
