// The firewall capability: in a network-providing qube, each client's Qubes
// firewall list compiled (compiler.h) into the chains, sets and maps it owns
// in the qube's table (install_batch.h), kept in force as rules change, names
// re-resolve and the kernel refuses things. Fail-closed: a client whose list
// the kernel refuses is put in drop-all, with the error kept for `list`; if
// the drop-all is refused too its previous rules hold, and the reply says so.
//
// Services: qnet.Firewall (one client's list replaced; input FirewallUpdate,
// exit code qube::AgentReply) and qnet.FirewallState (input: the client's
// name; output {"client", "notes", "error"} as JSON).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "qnet/base/clock.h"
#include "qnet/firewall/agent_section.h"
#include "qnet/firewall/compiler.h"
#include "qnet/nft/committer.h"
#include "qnet/qube/capability.h"

namespace qnet::firewall {

// Resolves a hostname inside the enforcing qube: A records, and AAAA when
// ipv6. Blocks for at most a few seconds.
using Resolver = std::function<Resolution(const std::string& name, bool ipv6)>;

// The compiler's view of one client with its list (its IPv6 address only
// when the chain routes IPv6), and of every client of a config.
Client FirewallClient(const qube::Client& c, const RuleList& rules, bool ipv6);
std::vector<Client> FirewallClients(const qube::AgentConfig& config, const ClientLists& lists);
// Every hostname the lists name, once each, sorted.
std::vector<std::string> FirewallHostnames(const ClientLists& lists);

class FirewallCapability final : public qube::Capability {
 public:
  // `qube` names this qube in logs and replies. `nft` and `clock` are
  // borrowed and must outlive the capability.
  // `refresh_floor` bounds hostname refreshes below (kMinRefresh; tests lower it).
  FirewallCapability(std::string qube, nft::Committer& nft, Resolver resolve, const Clock& clock,
                     std::chrono::seconds refresh_floor = kMinRefresh);
  FirewallCapability(const FirewallCapability&) = delete;
  FirewallCapability& operator=(const FirewallCapability&) = delete;

  std::string_view name() const override { return kCapabilityName; }
  // Every client's list (the config's firewall section) compiled with the
  // names resolved so far; a list that does not parse refuses the config.
  Result<nft::Batch> Install(const qube::AgentConfig& config) override;
  // Every client in drop-all; it deletes nothing (what failed may have been
  // a deletion).
  Result<nft::Batch> InstallClosed(const qube::AgentConfig& config) override;
  // After InstallClosed: each client's list on its own, so one the kernel
  // refuses again stays in drop-all and the others get their rules.
  void Installed(const qube::AgentConfig& config, bool closed) override;
  void Adopt(const qube::AgentConfig& config, const nft::TableState& table) override;
  void Forget() override { installed_.clear(); }
  std::vector<qrexec::ServiceEntry> Services() override;
  // Re-resolves the names whose refresh time has come.
  void Tick() override;
  std::optional<std::string> Section() const override;

  // How replacing one client's list ended, and why (unless kApplied).
  struct ApplyResult {
    qube::AgentReply outcome = qube::AgentReply::kApplied;
    Status status;
  };
  // qnet.Firewall without the wire: replaces `client`'s list (its new
  // names resolved first). Kept when in force or in drop-all.
  ApplyResult Replace(const std::string& client, const RuleList& rules);
  // The error that put the client in drop-all, if it is there.
  std::optional<std::string> ClientError(const std::string& client) const;

 private:
  qrexec::ServiceReply FirewallCall(qrexec::ServiceRequest& req);
  qrexec::ServiceReply FirewallStateCall(qrexec::ServiceRequest& req);
  ApplyResult ApplyClient(const qube::Client& client, const RuleList& rules);
  const RuleList& ListOf(const std::string& client) const;
  void ResolveNames(const ClientLists& lists, bool only_new);
  void ResolveOne(const std::string& name, std::chrono::steady_clock::time_point now);
  // Clients whose rules compile the same with the new answers (the usual
  // case) get only their host sets refilled, all in one transaction, so
  // hit counts survive; the others are reapplied.
  void RefreshDueNames();

  std::string qube_;
  nft::Committer& nft_;
  Resolver resolve_;
  const Clock& clock_;
  std::chrono::seconds refresh_floor_;
  std::optional<qube::AgentConfig> config_;  // the one in force
  ClientLists lists_;
  Resolutions names_;
  std::map<std::string, std::chrono::steady_clock::time_point> refresh_at_;
  // Per client, the objects the kernel holds (InstalledObjects: no rules).
  std::map<uint32_t, ClientRules> installed_;
  std::map<uint32_t, std::string> errors_;  // clients in drop-all: why
  // Between Install/InstallClosed and Installed.
  ClientLists pending_lists_;
  std::map<uint32_t, ClientRules> pending_installed_;
};

}  // namespace qnet::firewall
