#include "closed_capabilities.h"

#include "qnet/firewall/agent_section.h"
#include "qnet/nft/match.h"

namespace qnet::agent {

qube::CapabilityRules ClosedRules(std::string_view name) {
  using namespace nft;  // NOLINT: the match builder reads like nft syntax
  const std::string input = fmt::format("{}-input", name);
  const std::string output = fmt::format("{}-output", name);
  qube::CapabilityRules out;
  out.chains = {input, output};
  out.rules.push_back(
      Rule{input, Concat(CtStateIn(kCtEstablished | kCtRelated), Accept()), std::nullopt});
  out.rules.push_back(Rule{input, Concat(L4Proto(L4::kIcmp), Accept()), std::nullopt});
  out.rules.push_back(Rule{output, Accept(), std::nullopt});
  return out;
}

Result<nft::Batch> TorGatewayCapability::Install(const qube::AgentConfig& config) {
  auto it = config.sections.find(std::string(firewall::kCapabilityName));
  if (it != config.sections.end()) {
    QNET_ASSIGN_OR_RETURN(firewall::ClientLists lists,
                          firewall::ClientListsFromJson(it->second, clock_.UnixNow()));
    for (const auto& [client, list] : lists)
      if (Status s = firewall::CheckListForNetvm(config.role, config.qube, list); !s)
        return Fail(s.error().Wrap(fmt::format("client {}", client)));
  }
  return inner_->Install(config);
}

std::vector<qrexec::ServiceEntry> TorGatewayCapability::Services() {
  auto call = [this](qrexec::ServiceRequest& req) -> qrexec::ServiceReply {
    const int refused = static_cast<int>(qube::AgentReply::kRefused);
    auto u = firewall::FirewallUpdateFromJson(req.input, clock_.UnixNow());
    if (!u) return {refused, {}, u.error().message() + "\n"};
    if (!config_) return {refused, {}, "firewall: not configured\n"};
    if (!config_->FindClient(u->client))
      return {refused,
              {},
              fmt::format("firewall: {} is not a client of {}\n", u->client, config_->qube)};
    if (Status s = firewall::CheckListForNetvm(config_->role, config_->qube, u->rules); !s)
      return {refused, {}, fmt::format("client {}: {}\n", u->client, s.error().message())};
    // The default list: nothing to enforce, nothing forwards.
    return {static_cast<int>(qube::AgentReply::kApplied),
            fmt::format("applied\n{} forwards nothing: only Tor leaves it\n", config_->qube),
            {}};
  };
  std::vector<qrexec::ServiceEntry> out = inner_->Services();
  out.push_back({"qnet.Firewall", call});
  return out;
}

}  // namespace qnet::agent
