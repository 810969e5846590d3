// The `tor` capability: what a qube of role tor (a Whonix-style gateway)
// installs and runs (security contract 2, 3, 6, 7).
//
//   - Its rules are transparent_rules.h's, filled in the qube's one
//     transaction before tor runs: the gateway forwards nothing, downstream
//     TCP and DNS reach only TransPort/DNSPort once the gate is open, and
//     the uplink carries only packets of tor's uid.
//   - tor runs inside the qube as kTorUid of the qube's user namespace. The
//     qube's network namespace belongs to the host's user namespace, so the
//     kernel's `meta skuid` sees that uid as a host id: id_base + kTorUid.
//   - The gate (@tor-open) opens only when tor reports bootstrap 100%
//     (STATUS_CLIENT events, or GETINFO status/bootstrap-phase after each
//     connect) and closes when the control connection drops (tor exited) or
//     tor reports less again. The agent learns it over tor's ControlSocket,
//     authenticating with SAFECOOKIE only: a process in the qube that
//     pretends to be tor learns nothing about the cookie.
//
// The capability never starts tor itself; the qube's init supervises it
// (TorServiceArgv is what it runs). Threading: the agent's one thread calls
// every method; the control connection runs on the capability's own
// io_context, polled from Tick() and from the qnet.Tor service.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/nft/committer.h"
#include "qnet/qube/agent_config.h"
#include "qnet/qube/capability.h"
#include "qnet/tor/control_types.h"
#include "qnet/tor/torrc.h"
#include "qnet/tor/transparent_rules.h"

namespace qnet::tor {

// tor's uid and gid inside the qube (Debian's debian-tor is a system id too).
inline constexpr uid_t kTorUid = 107;
inline constexpr gid_t kTorGid = 107;

// Where the gateway's tor lives. The torrc is written by the agent into its
// own /run/qnet-qube, which the qube sees read-only at the same path. The
// DataDirectory (which holds the cookie) is created by tor itself in the
// qube's private /tmp, owned by kTorUid, mode 0700; the agent reads the
// cookie through /proc/<tor's pid>/root (it shares the qube's pid
// namespace, not its view). The supervised tor's control port is TCP on
// the qube's loopback (kTorControlPort): tor refuses a ControlSocket whose
// directory does not exist, private to it, before it starts, and the
// qube's view has no such directory yet.
inline constexpr uint16_t kTorControlPort = 9051;
struct GatewayPaths {
  std::string torrc_dir = "/run/qnet-qube/tor";
  std::string data_dir = "/tmp/qnet-tor";
  std::string torrc() const { return torrc_dir + "/torrc"; }
  std::string control_socket() const { return data_dir + "/control"; }
  std::string cookie_file() const { return data_dir + "/control_auth_cookie"; }
};

// The `tor` section of the agent's config (JSON): the chain file's
// allow-listed options, and the lab's private network when the chain runs
// against the lab (qnetd fills it; never the user):
//   {"options": {...TorOptionsToValue as JSON...},
//    "lab": {"dir_authorities": ["DirAuthority auth1 orport=...", ...]}}
// A chain against the lab whose Tor network is not (yet) running has
// "lab": {"dir_authorities": []}: tor then runs with DisableNetwork 1 and
// never tries the public network's addresses.
struct GatewaySection {
  TorOptions options;
  bool lab = false;
  std::vector<std::string> dir_authorities;  // lab only
  bool operator==(const GatewaySection&) const = default;
};
Result<GatewaySection> GatewaySectionFromJson(std::string_view json);
std::string GatewaySectionToJson(const GatewaySection& section);

// Everything the capability derives from the qube's config: its rules'
// parameters and tor's configuration. Pure.
struct GatewayPlan {
  GatewayRulesParams rules;
  // The supervised tor's: ControlPort 127.0.0.1:kTorControlPort; tests
  // running their own tor use the ControlSocket.
  GatewayTorConfig torrc;
  bool lab = false;
  std::vector<std::string> dir_authorities;
};
// kInvalidArgument when the qube has no uplink or IPv4 address, id_base is
// 0 (an uncontained qube) or the section does not parse.
Result<GatewayPlan> PlanGateway(const qube::AgentConfig& config, uint32_t id_base,
                                const GatewayPaths& paths = {}, bool control_port = true);
// The torrc text for a plan (RenderTorrc plus the lab's test-network lines).
Result<std::string> GatewayTorrc(const GatewayPlan& plan);

// The argv the qube's init runs, as kTorUid, for the gateway's tor.
std::vector<std::string> TorServiceArgv(const GatewayPaths& paths = {});
// The supervised service (name "tor") the capability asks the init for.
qube::SupervisedService TorService(const GatewayPaths& paths = {});

// The gate as a function of what the control connection reports. Pure.
class BootstrapGate {
 public:
  void Connected() { progress_.reset(); }
  void Disconnected() { progress_.reset(); }
  void Bootstrap(const BootstrapStatus& s) { progress_ = s; }
  Gate gate() const {
    return progress_ && progress_->progress >= 100 ? Gate::kOpen : Gate::kClosed;
  }
  // The last phase tor reported on this connection.
  const std::optional<BootstrapStatus>& progress() const { return progress_; }

 private:
  std::optional<BootstrapStatus> progress_;
};

struct TorCapabilityParams {
  uint32_t id_base = 0;  // the qube's host id range (runtime/id_range.h)
  GatewayPaths paths;
  std::chrono::milliseconds command_timeout{5000};
  // true: the capability asks the qube's init to run tor (Daemons) and
  // follows it by pid (DaemonStates). false: a tor someone else runs, at
  // paths.control_socket() as the agent sees it (tests).
  bool supervise = true;
};

class TorCapability final : public qube::Capability {
 public:
  // `nft` (the qube's table) is borrowed and must outlive the capability.
  TorCapability(nft::Committer& nft, TorCapabilityParams params);
  ~TorCapability() override;

  std::string_view name() const override { return kCapability; }
  // ip_forward on, so that downstream packets to other hosts meet the
  // forward chain, which refuses TCP and DNS at once while the gate is
  // closed and drops and counts the rest (it forwards nothing): with
  // forwarding off the kernel would drop them silently and a client's
  // connection would hang instead of being refused.
  bool forwards() const override { return true; }
  Result<nft::Batch> Install(const qube::AgentConfig& config) override;
  void Installed(const qube::AgentConfig& config, bool closed) override;
  void Adopt(const qube::AgentConfig& config, const nft::TableState& table) override;
  void Forget() override;
  std::vector<qrexec::ServiceEntry> Services() override;
  void Tick() override;
  std::vector<qube::SupervisedService> Daemons() const override;
  void DaemonStates(const std::vector<qube::ServiceState>& states) override;

  // What the gate is in the kernel (as far as this capability committed it).
  Gate gate() const { return committed_gate_; }
  const BootstrapGate& bootstrap() const { return bootstrap_; }

  class Control;

 private:
  void Configure(const qube::AgentConfig& config);
  // Connects to tor's control port (supervised: TCP on loopback, cookie
  // under /proc/<pid>/root) or, for a tor run by someone else, its socket.
  void Connect(pid_t pid);
  void SyncGate();
  qrexec::ServiceReply Call(const std::string& arg);

  nft::Committer& nft_;
  TorCapabilityParams params_;
  std::optional<GatewayPlan> plan_;
  BootstrapGate bootstrap_;
  Gate committed_gate_ = Gate::kClosed;
  bool installed_ = false;
  pid_t tor_pid_ = 0;  // as the init reports it (the qube's pid namespace)
  std::unique_ptr<Control> control_;
};

}  // namespace qnet::tor
