// The vpn capability: in a vpn qube, the kill switch (kill_switch.h) in the
// chains it owns, installed in the same transaction as the netvm and
// firewall capabilities and jumped before them (the capability table puts
// it first), before any tunnel exists; and, with the userspace backend,
// wireguard-go as a supervised service (qube/supervised_service.h) in a
// network namespace of its own.
//
// Its section of the agent config (VpnSection) carries the wg-quick text
// (validated again here: errors name the file and line), where it came
// from, and the backend asked for. A missing or bad section refuses the
// config: the qube stays in lockdown, nothing is forwarded. Endpoint names
// are resolved in the qube; until they resolve the kill switch is closed
// (no endpoint let out, every client's packet dropped and counted).
//
// Threading: the agent's one thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/qube/capability.h"
#include "qnet/vpn/kill_switch.h"
#include "qnet/vpn/wg_quick.h"

namespace qnet::vpn {

enum class BackendChoice : uint8_t { kAuto, kKernel, kUserspace };
inline constexpr std::string_view kBackendKey = "backend";
// "auto", "kernel", "userspace"; kInvalidArgument listing them otherwise.
Result<BackendChoice> ParseBackendChoice(std::string_view text);
std::string_view BackendChoiceName(BackendChoice b);

// The vpn capability's section of qube::AgentConfig::sections.
struct VpnSection {
  std::string source;    // the wg-quick file's name as the chain file gave it ("lab" for the lab)
  std::string wg_quick;  // its text (a secret: it holds the private key)
  BackendChoice backend = BackendChoice::kAuto;
  bool operator==(const VpnSection&) const = default;
};
std::string VpnSectionToJson(const VpnSection& s);
Result<VpnSection> VpnSectionFromJson(std::string_view text);

// Link names in a vpn qube. Userspace: clients' traffic leaves by
// kDaemonLink into wireguard-go's namespace, where kDaemonPeerLink is its
// end and kWgDevice the TUN device wireguard-go makes. Kernel: kWgDevice in
// the qube itself.
inline constexpr std::string_view kDaemonLink = "vpn0";
inline constexpr std::string_view kDaemonPeerLink = "vpn1";
inline constexpr std::string_view kWgDevice = "wg0";
inline constexpr std::string_view kWireguardGoService = "wireguard-go";
inline constexpr const char* kWireguardGoPath = "/usr/bin/wireguard-go";

// The link clients' traffic leaves the vpn qube by, for `backend`.
std::string_view TunnelLink(Backend backend);

// Resolves a host name in the qube (addresses; empty when it does not resolve).
using HostResolver = std::function<std::vector<IpAddr>(const std::string& host)>;

struct VpnDeps {
  std::string qube;
  HostResolver resolve;
  // Whether this kernel can make a WireGuard link (CreateWireguardLink
  // probed once by the composition root).
  bool kernel_wireguard = false;
};

class VpnCapability final : public qube::Capability {
 public:
  explicit VpnCapability(VpnDeps deps) : deps_(std::move(deps)) {}

  std::string_view name() const override { return kVpnCapability; }
  bool forwards() const override { return true; }
  // The kill switch for the section's config with its endpoints resolved
  // (closed while a name does not resolve). kInvalidArgument for a missing
  // or bad section, or a backend this kernel cannot give.
  Result<nft::Batch> Install(const qube::AgentConfig& config) override;
  // The kill switch closed: no endpoint let out.
  Result<nft::Batch> InstallClosed(const qube::AgentConfig& config) override;
  void Installed(const qube::AgentConfig& config, bool closed) override;
  void Adopt(const qube::AgentConfig& config, const nft::TableState& table) override;
  // wireguard-go (userspace backend) once a config is in force.
  std::vector<qube::SupervisedService> Daemons() const override;
  void DaemonStates(const std::vector<qube::ServiceState>& states) override { states_ = states; }

  // What Install decided, for status and tests.
  std::optional<Backend> backend() const { return backend_; }
  bool endpoints_resolved() const { return resolved_; }

 private:
  struct Prepared {
    WgQuickConfig wg;
    Backend backend;
  };
  Result<Prepared> Prepare(const qube::AgentConfig& config) const;
  Result<nft::Batch> Build(const qube::AgentConfig& config, bool closed);

  VpnDeps deps_;
  std::optional<Backend> backend_;  // of the config in force
  std::optional<Backend> pending_;  // of the last Install, until Installed
  bool resolved_ = false;
  bool pending_resolved_ = false;
  std::vector<qube::ServiceState> states_;
};

}  // namespace qnet::vpn
