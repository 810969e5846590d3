#include "qnet/firewall/compiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "qnet/firewall/nft_names.h"
#include "qnet/nft/match.h"
#include "qnet/qube/address.h"
#include "rule_matches.h"

namespace qnet::firewall {
namespace {

using nft::Exprs;

std::string RuleComment(size_t number) { return fmt::format("rule {}", number); }

Exprs VerdictFor(Action action) {
  // A drop rejects (TCP reset, else ICMP admin-prohibited) so that
  // applications fail fast instead of timing out.
  return action == Action::kAccept ? nft::Accept() : nft::Goto(kRejectChain);
}

Status ValidateClient(const Client& c) {
  auto fail = [&c](std::string why) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("firewall client {} (id {}): {}", c.name, c.id, why));
  };
  if (Status s = qube::ValidateQubeId(c.id); !s) return fail(s.error().message());
  if (!c.ipv4.is_v4()) return fail(fmt::format("ipv4 {} is not an IPv4 address", c.ipv4));
  if (c.ipv6 && !c.ipv6->is_v6()) {
    return fail(fmt::format("ipv6 {} is not an IPv6 address", *c.ipv6));
  }
  if (Status s = qube::ValidateIfName(c.vif); !s) return fail(s.error().message());
  const std::vector<Rule>& rules = c.rules.rules();
  for (size_t n = 0; n < rules.size(); ++n) {
    if (Status s = Validate(rules[n]); !s) {
      return fail(fmt::format("rule {} ({}): {}", n, FormatRule(rules[n]), s.error().message()));
    }
  }
  return OkStatus();
}

// Builds one client's objects, rule by rule.
class ClientBuilder {
 public:
  ClientBuilder(const Client& client, const Resolutions& names, int64_t now)
      : client_(client), names_(names), now_(now), chain4_(ClientChain(client.id)) {
    out_.id = client.id;
    out_.name = client.name;
    out_.chains.push_back(nft::Chain{chain4_, std::nullopt});
    if (client.ipv6) {
      chain6_ = ClientChain6(client.id);
      out_.chains.push_back(nft::Chain{chain6_, std::nullopt});
    }
  }

  // Returns false when the rest of the list must give way to the final drop.
  bool AddRule(const Rule& rule, size_t number) {
    if (IsExpired(rule, now_)) {
      Note(number, rule, fmt::format("expired at {}: left out", *rule.expire));
      return true;
    }
    internal::RuleScope scope{client_.id, number, client_.ipv6.has_value(), nullptr};
    if (const auto* host = rule.dst ? std::get_if<Hostname>(&*rule.dst) : nullptr) {
      auto it = names_.find(host->name);
      bool resolved = it != names_.end() && it->second.ok;
      if (resolved) scope.resolution = &it->second;
      if (!resolved) {
        std::string why = it == names_.end() ? "not resolved" : it->second.error;
        if (rule.action == Action::kDrop) {
          // Never open: without its addresses a drop rule cannot be kept,
          // so everything from here on drops.
          Note(number, rule,
               fmt::format("{} did not resolve ({}): this rule and all after it "
                           "replaced by drop",
                           host->name, why));
          return false;
        }
        Note(number, rule,
             fmt::format("{} did not resolve ({}): the rule matches nothing", host->name, why));
      }
      AddHostSets(rule, scope);
    }
    std::vector<internal::Alternative> alternatives = internal::MatchAlternatives(rule, scope);
    if (alternatives.empty()) Note(number, rule, "matches no packet: left out");
    Emit(rule, number, std::move(alternatives));
    return true;
  }

  ClientRules Finish() && {
    const std::string counter = ClientDropCounter(client_.id);
    out_.counters.push_back(nft::CounterObject{counter});
    for (const std::string* chain : {&chain4_, &chain6_}) {
      if (chain->empty()) continue;
      out_.rules.push_back(nft::Rule{
          *chain, nft::Concat(nft::CountNamed(counter), nft::Goto(kRejectChain)), "default drop"});
    }
    // The dispatch key is the vif and the source address together: only
    // the client's own packets, from its own interface, reach its chains.
    const nft::Bytes vif = nft::IfnameKey(client_.vif);
    auto entry = [&vif](const IpAddr& addr, const std::string& chain) {
      return nft::SetElement{.key = nft::ConcatKey({vif, nft::AddrKey(addr)}),
                             .verdict = nft::Verdict{nft::VerdictCode::kJump, chain}};
    };
    out_.map_entries.push_back(SetEntries{std::string(kSrc4Map), {entry(client_.ipv4, chain4_)}});
    if (client_.ipv6) {
      out_.map_entries.push_back(
          SetEntries{std::string(kSrc6Map), {entry(*client_.ipv6, chain6_)}});
    }
    out_.map_entries.push_back(SetEntries{std::string(kVifSet), {{.key = vif}}});
    return std::move(out_);
  }

 private:
  void Note(size_t number, const Rule& rule, std::string what) {
    out_.notes.push_back(fmt::format("rule {} ({}): {}", number, FormatRule(rule), what));
  }

  void AddHostSets(const Rule& rule, const internal::RuleScope& scope) {
    bool accept = rule.action == Action::kAccept;
    for (bool v6 : {false, true}) {
      if (v6 && !client_.ipv6) continue;
      nft::SetContents contents;
      contents.set.name = HostSet(client_.id, scope.number, v6, accept);
      contents.set.key = {v6 ? nft::DataType::kIpv6Addr : nft::DataType::kIpv4Addr};
      // Only an allowing element may time out (contract 11).
      contents.set.timeout = accept;
      if (scope.resolution != nullptr) {
        contents.elements = HostElements(*scope.resolution, v6, accept);
      }
      out_.sets.push_back(std::move(contents));
    }
  }

  static std::vector<nft::SetElement> HostElements(const Resolution& res, bool v6, bool timeout) {
    std::map<IpAddr, std::chrono::seconds> ttl_by_addr;
    for (const ResolvedAddress& r : res.addresses) {
      if (r.addr.is_v6() != v6) continue;
      auto& ttl = ttl_by_addr[r.addr];
      ttl = std::max(ttl, r.ttl);
    }
    std::vector<nft::SetElement> out;
    for (const auto& [addr, ttl] : ttl_by_addr) {
      nft::SetElement e{.key = nft::AddrKey(addr)};
      if (timeout) e.timeout = std::chrono::milliseconds(ElementTimeout(ttl));
      out.push_back(std::move(e));
    }
    return out;
  }

  // The chains an alternative goes in: its family's, or both.
  std::vector<const std::string*> ChainsFor(internal::Fam fam) const {
    std::vector<const std::string*> out;
    if (fam != internal::Fam::kV6) out.push_back(&chain4_);
    if (fam != internal::Fam::kV4 && !chain6_.empty()) out.push_back(&chain6_);
    return out;
  }

  void Emit(const Rule& rule, size_t number, std::vector<internal::Alternative> alternatives) {
    if (alternatives.empty()) return;
    const Exprs verdict = VerdictFor(rule.action);
    // The kernel's clock decides when an expiring rule stops matching.
    std::optional<Exprs> time;
    if (rule.expire) {
      const bool accept = rule.action == Action::kAccept;
      time =
          internal::ExpiryTest(*rule.expire, accept ? std::optional<int64_t>(now_) : std::nullopt);
    }
    const Exprs tail = nft::Concat(time.value_or(Exprs{}), nft::Count(), verdict);
    for (internal::Alternative& alt : alternatives) {
      const std::vector<const std::string*> chains = ChainsFor(alt.fam);
      for (size_t i = 0; i < chains.size(); ++i) {
        Exprs match = i + 1 == chains.size() ? std::move(alt.exprs) : alt.exprs;
        out_.rules.push_back(
            nft::Rule{*chains[i], nft::Concat(std::move(match), tail), RuleComment(number)});
      }
    }
  }

  const Client& client_;
  const Resolutions& names_;
  int64_t now_;
  std::string chain4_;  // fw-<id>: the client's IPv4 packets
  std::string chain6_;  // fw-<id>-6, or empty when the client has no IPv6
  ClientRules out_;
};

// `meta iifname . ip saddr vmap @fw-src4` (ip6 for fw-src6): a packet from
// anywhere but a client's own vif, with that client's address, matches no
// entry. Forwarding from the uplink is never a client's to allow.
Exprs Dispatch(bool v6) {
  return nft::VmapIifnameSaddr(v6 ? nft::NfProtoValue::kV6 : nft::NfProtoValue::kV4,
                               v6 ? kSrc6Map : kSrc4Map);
}

template <typename T>
std::vector<T> Missing(const std::vector<T>& before, const std::vector<T>& after) {
  std::vector<T> out;
  for (const T& x : before) {
    if (std::find(after.begin(), after.end(), x) == after.end()) out.push_back(x);
  }
  return out;
}

template <typename T, typename F>
std::vector<std::string> Names(const std::vector<T>& items, F name) {
  std::vector<std::string> out;
  for (const T& item : items) out.push_back(name(item));
  return out;
}

}  // namespace

std::chrono::seconds RefreshInterval(std::chrono::seconds ttl, std::chrono::seconds floor) {
  return std::clamp(ttl, std::min(floor, kMaxRefresh), kMaxRefresh);
}

std::chrono::seconds ElementTimeout(std::chrono::seconds ttl) {
  return RefreshInterval(ttl) + kElementGrace;
}

CompiledFirewall CompileShared() {
  CompiledFirewall out;
  out.chains = {nft::Chain{std::string(kForwardChain), std::nullopt},
                nft::Chain{std::string(kRejectChain), std::nullopt}};
  std::string fwd(kForwardChain);
  std::string rej(kRejectChain);
  out.rules = {
      nft::Rule{fwd, Dispatch(false), "client dispatch"},
      nft::Rule{fwd, Dispatch(true), "client dispatch"},
      nft::Rule{
          fwd,
          nft::Concat(Exprs{nft::Meta{NFT_META_IIFNAME, NFT_REG_1},
                            nft::Lookup{std::string(kVifSet), NFT_REG_1, std::nullopt, false}},
                      nft::CountNamed(kUnknownSourceCounter), nft::Drop()),
          "unknown source"},
      nft::Rule{rej, nft::Concat(nft::L4Proto(nft::L4::kTcp), nft::RejectTcpReset()), std::nullopt},
      nft::Rule{rej, nft::RejectAdminProhibited(), std::nullopt},
  };
  out.sets = {
      nft::Set{.name = std::string(kSrc4Map),
               .key = {nft::DataType::kIfname, nft::DataType::kIpv4Addr},
               .data = nft::DataType::kVerdict},
      nft::Set{.name = std::string(kSrc6Map),
               .key = {nft::DataType::kIfname, nft::DataType::kIpv6Addr},
               .data = nft::DataType::kVerdict},
      nft::Set{.name = std::string(kVifSet), .key = {nft::DataType::kIfname}},
  };
  out.counters = {nft::CounterObject{std::string(kUnknownSourceCounter)}};
  return out;
}

Result<ClientRules> CompileClient(const Client& client, const Resolutions& names, int64_t now) {
  QNET_TRY(ValidateClient(client));
  ClientBuilder builder(client, names, now);
  std::vector<Rule> rules = client.rules.Effective();
  for (size_t n = 0; n < rules.size(); ++n) {
    if (!builder.AddRule(rules[n], n)) break;
  }
  return std::move(builder).Finish();
}

Result<ClientRules> CompileDropAll(const Client& client) {
  Client dropping = client;
  dropping.rules = RuleList();
  QNET_TRY(ValidateClient(dropping));
  return ClientBuilder(dropping, Resolutions{}, 0).Finish();
}

Result<CompiledFirewall> Compile(const std::vector<Client>& clients, const Resolutions& names,
                                 int64_t now) {
  CompiledFirewall out = CompileShared();
  std::set<uint32_t> ids;
  std::set<IpAddr> addrs;
  std::set<std::string> vifs;
  for (const Client& c : clients) {
    auto dup = [&c](std::string what) {
      return Fail(
          Errc::kInvalidArgument,
          fmt::format("firewall client {} (id {}): {} used by another client", c.name, c.id, what));
    };
    if (!ids.insert(c.id).second) return dup("id");
    if (!addrs.insert(c.ipv4).second) return dup(fmt::format("address {}", c.ipv4));
    if (c.ipv6 && !addrs.insert(*c.ipv6).second) return dup(fmt::format("address {}", *c.ipv6));
    if (!vifs.insert(c.vif).second) return dup(fmt::format("interface {}", c.vif));
    QNET_ASSIGN_OR_RETURN(ClientRules compiled, CompileClient(c, names, now));
    out.clients.push_back(std::move(compiled));
  }
  return out;
}

StaleObjects Stale(const ClientRules& before, const ClientRules& after) {
  StaleObjects out;
  auto chain_name = [](const nft::Chain& c) { return c.name; };
  auto set_name = [](const nft::SetContents& s) { return s.set.name; };
  auto counter_name = [](const nft::CounterObject& c) { return c.name; };
  out.chains = Missing(Names(before.chains, chain_name), Names(after.chains, chain_name));
  out.sets = Missing(Names(before.sets, set_name), Names(after.sets, set_name));
  out.counters = Missing(Names(before.counters, counter_name), Names(after.counters, counter_name));
  for (const SetEntries& old : before.map_entries) {
    std::vector<nft::Bytes> kept;
    for (const SetEntries& now : after.map_entries) {
      if (now.set != old.set) continue;
      for (const nft::SetElement& e : now.elements) kept.push_back(e.key);
    }
    SetEntries gone{old.set, {}};
    for (const nft::SetElement& e : old.elements) {
      if (std::find(kept.begin(), kept.end(), e.key) == kept.end()) gone.elements.push_back(e);
    }
    if (!gone.elements.empty()) out.map_entries.push_back(std::move(gone));
  }
  return out;
}

}  // namespace qnet::firewall
