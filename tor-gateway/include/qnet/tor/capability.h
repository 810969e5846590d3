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

// Where the gateway's tor lives inside the qube: its runtime directory
// (ControlSocket, torrc; private to the qube) and its DataDirectory.
struct GatewayPaths {
  std::string run_dir = "/run/qnet-tor";
  std::string data_dir = "/var/lib/qnet-tor";
  std::string control_socket() const { return run_dir + "/control"; }
  std::string torrc() const { return run_dir + "/torrc"; }
};

// The `tor` section of the agent's config (JSON): the chain file's
// allow-listed options, and the lab's private network when the chain runs
// against the lab (qnetd fills it; never the user):
//   {"options": {...TorOptionsToValue as JSON...},
//    "lab": {"dir_authorities": ["DirAuthority auth1 orport=...", ...]}}
struct GatewaySection {
  TorOptions options;
  std::vector<std::string> dir_authorities;  // empty: the public Tor network
  bool operator==(const GatewaySection&) const = default;
};
Result<GatewaySection> GatewaySectionFromJson(std::string_view json);
std::string GatewaySectionToJson(const GatewaySection& section);

// Everything the capability derives from the qube's config: its rules'
// parameters and tor's configuration. Pure.
struct GatewayPlan {
  GatewayRulesParams rules;
  GatewayTorConfig torrc;
  std::vector<std::string> dir_authorities;
};
// kInvalidArgument when the qube has no uplink or IPv4 address, id_base is
// 0 (an uncontained qube) or the section does not parse.
Result<GatewayPlan> PlanGateway(const qube::AgentConfig& config, uint32_t id_base,
                                const GatewayPaths& paths = {});
// The torrc text for a plan (RenderTorrc plus the lab's test-network lines).
Result<std::string> GatewayTorrc(const GatewayPlan& plan);

// The argv the qube's init runs, as kTorUid, for the gateway's tor.
std::vector<std::string> TorServiceArgv(const GatewayPaths& paths = {});

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

  // What the gate is in the kernel (as far as this capability committed it).
  Gate gate() const { return committed_gate_; }
  const BootstrapGate& bootstrap() const { return bootstrap_; }

  class Control;

 private:
  void Configure(const qube::AgentConfig& config);
  void SyncGate();
  qrexec::ServiceReply Call(const std::string& arg);

  nft::Committer& nft_;
  TorCapabilityParams params_;
  std::optional<GatewayPlan> plan_;
  BootstrapGate bootstrap_;
  Gate committed_gate_ = Gate::kClosed;
  bool installed_ = false;
  std::unique_ptr<Control> control_;
};

}  // namespace qnet::tor
