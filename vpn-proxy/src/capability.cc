// VpnCapability: the kill switch in the qube's transaction, wireguard-go as
// a supervised service (see capability.h).
#include "qnet/vpn/capability.h"

#include <nlohmann/json.hpp>

#include "qnet/nft/base_table.h"

namespace qnet::vpn {
namespace {

using nlohmann::json;

struct BackendRow {
  BackendChoice choice;
  std::string_view name;
};
constexpr BackendRow kBackends[] = {{BackendChoice::kAuto, "auto"},
                                    {BackendChoice::kKernel, "kernel"},
                                    {BackendChoice::kUserspace, "userspace"}};

Unexpected<Error> BadSection(std::string_view what) {
  return Fail(Errc::kInvalidArgument, fmt::format("vpn section: {}", what));
}

}  // namespace

Result<BackendChoice> ParseBackendChoice(std::string_view text) {
  for (const BackendRow& row : kBackends)
    if (row.name == text) return row.choice;
  return Fail(Errc::kInvalidArgument,
              fmt::format("unknown backend \"{}\" (expected \"kernel\" or \"userspace\"; "
                          "without the key: automatic)",
                          text));
}

std::string_view BackendChoiceName(BackendChoice b) {
  for (const BackendRow& row : kBackends)
    if (row.choice == b) return row.name;
  return "?";
}

std::string VpnSectionToJson(const VpnSection& s) {
  return json{{"source", s.source},
              {"wg_quick", s.wg_quick},
              {"backend", std::string(BackendChoiceName(s.backend))}}
      .dump();
}

Result<VpnSection> VpnSectionFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return BadSection("expected a JSON object");
  VpnSection s;
  for (const char* key : {"source", "wg_quick"})
    if (!j.contains(key) || !j[key].is_string())
      return BadSection(fmt::format("{}: expected a string", key));
  s.source = j["source"].get<std::string>();
  s.wg_quick = j["wg_quick"].get<std::string>();
  if (j.contains("backend")) {
    if (!j["backend"].is_string()) return BadSection("backend: expected a string");
    auto b = ParseBackendChoice(j["backend"].get<std::string>());
    if (!b) return BadSection(fmt::format("backend: {}", b.error().message()));
    s.backend = *b;
  }
  return s;
}

std::string_view TunnelLink(Backend backend) {
  return backend == Backend::kKernel ? kWgDevice : kDaemonLink;
}

Result<VpnCapability::Prepared> VpnCapability::Prepare(const qube::AgentConfig& config) const {
  auto it = config.sections.find(std::string(kVpnCapability));
  if (it == config.sections.end())
    return BadSection("missing (the chain file's `wireguard` key names the vpn qube's config)");
  QNET_ASSIGN_OR_RETURN(VpnSection section, VpnSectionFromJson(it->second));
  QNET_ASSIGN_OR_RETURN(WgQuickConfig wg, ParseWgQuick(section.wg_quick, section.source));
  Backend backend = deps_.kernel_wireguard ? Backend::kKernel : Backend::kUserspace;
  if (section.backend == BackendChoice::kUserspace) backend = Backend::kUserspace;
  if (section.backend == BackendChoice::kKernel) {
    if (!deps_.kernel_wireguard)
      return Fail(Errc::kFailedPrecondition,
                  "vpn: backend = \"kernel\": this kernel has no WireGuard (use \"userspace\" "
                  "or leave the key out)");
    backend = Backend::kKernel;
  }
  return Prepared{std::move(wg), backend};
}

Result<nft::Batch> VpnCapability::Build(const qube::AgentConfig& config, bool closed) {
  QNET_ASSIGN_OR_RETURN(Prepared p, Prepare(config));
  KillSwitchInput in{.config = &p.wg,
                     .backend = p.backend,
                     .uplink = config.uplink ? config.uplink->ifname : "eth0",
                     .tunnel = std::string(TunnelLink(p.backend)),
                     .chain_routes_ipv6 = config.ipv6,
                     .fwmark = p.wg.interface.fwmark};
  bool resolved = false;
  if (!closed) {
    std::vector<std::pair<std::string, std::vector<IpAddr>>> names;
    for (const WgPeer& peer : p.wg.peers)
      if (!peer.endpoint.Address() && deps_.resolve)
        names.emplace_back(peer.endpoint.host, deps_.resolve(peer.endpoint.host));
    auto endpoints = ResolveEndpoints(p.wg, names);
    if (endpoints) {
      in.endpoints = std::move(*endpoints);
      resolved = true;
    }
  }
  in.closed = !resolved;
  QNET_ASSIGN_OR_RETURN(KillSwitchRules ks, CompileKillSwitch(in));
  pending_ = p.backend;
  pending_resolved_ = resolved;
  return KillSwitchBatch(ks);
}

Result<nft::Batch> VpnCapability::Install(const qube::AgentConfig& config) {
  return Build(config, /*closed=*/false);
}

Result<nft::Batch> VpnCapability::InstallClosed(const qube::AgentConfig& config) {
  return Build(config, /*closed=*/true);
}

void VpnCapability::Installed(const qube::AgentConfig&, bool) {
  backend_ = pending_;
  resolved_ = pending_resolved_;
}

void VpnCapability::Adopt(const qube::AgentConfig& config, const nft::TableState&) {
  // The rules in the kernel are the previous incarnation's; what they were
  // compiled from is the saved config.
  if (auto p = Prepare(config)) backend_ = p->backend;
}

std::vector<qube::SupervisedService> VpnCapability::Daemons() const {
  if (backend_ != Backend::kUserspace) return {};
  // Root in the qube's user namespace, in a network namespace of its own:
  // it may make its TUN device there and nowhere else (the kill switch lives
  // in the qube's namespace, which the host's user namespace owns).
  return {qube::SupervisedService{
      .name = std::string(kWireguardGoService),
      .argv = {kWireguardGoPath, "-f", std::string(kWgDevice)},
      .env = {"LOG_LEVEL=error"},
      .uid = 0,
      .gid = 0,
      .own_netns = true,
  }};
}

}  // namespace qnet::vpn
