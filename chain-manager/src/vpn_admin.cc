#include "vpn_admin.h"

#include <filesystem>

#include "qnet/base/fd.h"
#include "qnet/vpn/capability.h"
#include "qnet/vpn/config_key.h"

namespace qnet::chain {
namespace {

Unexpected<Error> AtKey(const config::QubeSpec& q, const config::Value& v, std::string_view key,
                        std::string_view what) {
  return Fail(Errc::kInvalidArgument,
              fmt::format("{}: qube.{}.{}: {}", v.pos().ToString(), q.name, key, what));
}

}  // namespace

Status AttachVpnSections(Plan& plan, const config::ChainSpec& spec) {
  namespace fs = std::filesystem;
  std::vector<std::pair<QubePlan*, vpn::VpnSection>> sections;
  for (QubePlan& q : plan.qubes) {
    if (q.spec.role != qube::Role::kVpn) continue;
    const config::Value* wg = q.spec.FindExtra(vpn::kWireguardKey);
    // No key: the capability refuses the config and the qube stays locked down.
    if (wg == nullptr || !wg->is_string()) continue;
    vpn::VpnSection s;
    if (const config::Value* b = q.spec.FindExtra(vpn::kBackendKeyName); b && b->is_string()) {
      auto choice = vpn::ParseBackendChoice(b->as_string());
      if (!choice) return AtKey(q.spec, *b, vpn::kBackendKeyName, choice.error().message());
      s.backend = *choice;
    }
    if (wg->as_string() == "lab")
      return AtKey(q.spec, *wg, vpn::kWireguardKey,
                   "\"lab\": the lab runtime has no WireGuard server yet; give a wg-quick file");
    fs::path path = wg->as_string();
    if (path.is_relative()) path = fs::path(spec.source_path).parent_path() / path;
    auto text = ReadFile(path.string());
    if (!text)
      return AtKey(q.spec, *wg, vpn::kWireguardKey,
                   fmt::format("cannot read '{}': {}", path.string(), text.error().message()));
    s.source = wg->as_string();
    s.wg_quick = std::move(*text);
    // Checked here too, so `qnet up` names the bad line before any qube runs.
    if (auto parsed = vpn::ParseWgQuick(s.wg_quick, s.source); !parsed)
      return AtKey(q.spec, *wg, vpn::kWireguardKey, parsed.error().message());
    sections.emplace_back(&q, std::move(s));
  }
  for (auto& [q, s] : sections)
    q->agent.sections[std::string(vpn::kVpnCapability)] = vpn::VpnSectionToJson(s);
  return OkStatus();
}

}  // namespace qnet::chain
