#include "qnet/qube/agent_config.h"

#include <nlohmann/json.hpp>

namespace qnet::qube {
namespace {

using nlohmann::json;

json Opt(const std::optional<IpAddr>& a) { return a ? json(a->ToString()) : json(nullptr); }
json Opt(const std::optional<IpPrefix>& a) { return a ? json(a->ToString()) : json(nullptr); }

json AddrList(const std::vector<IpAddr>& v) {
  json out = json::array();
  for (const auto& a : v) out.push_back(a.ToString());
  return out;
}

// Readers that name the field on error; `json::at` would throw instead.
class Reader {
 public:
  explicit Reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  Result<std::string> Str(const char* key, bool optional = false) const {
    if (!j_.contains(key) || j_[key].is_null()) {
      if (optional) return std::string();
      return Fail(Errc::kInvalidArgument, fmt::format("{}.{}: missing", path_, key));
    }
    if (!j_[key].is_string())
      return Fail(Errc::kInvalidArgument, fmt::format("{}.{}: expected a string", path_, key));
    return j_[key].get<std::string>();
  }
  Result<IpAddr> Addr(const char* key) const {
    QNET_ASSIGN_OR_RETURN(std::string s, Str(key));
    auto a = IpAddr::Parse(s);
    if (!a) return Fail(a.error().Wrap(fmt::format("{}.{}", path_, key)));
    return a;
  }
  Result<std::optional<IpAddr>> OptAddr(const char* key) const {
    QNET_ASSIGN_OR_RETURN(std::string s, Str(key, true));
    if (s.empty()) return std::optional<IpAddr>();
    QNET_ASSIGN_OR_RETURN(IpAddr a, Addr(key));
    return std::optional<IpAddr>(a);
  }
  Result<IpPrefix> Prefix(const char* key) const {
    QNET_ASSIGN_OR_RETURN(std::string s, Str(key));
    auto p = IpPrefix::Parse(s);
    if (!p) return Fail(p.error().Wrap(fmt::format("{}.{}", path_, key)));
    return p;
  }
  Result<std::optional<IpPrefix>> OptPrefix(const char* key) const {
    QNET_ASSIGN_OR_RETURN(std::string s, Str(key, true));
    if (s.empty()) return std::optional<IpPrefix>();
    QNET_ASSIGN_OR_RETURN(IpPrefix p, Prefix(key));
    return std::optional<IpPrefix>(p);
  }
  Result<std::vector<IpAddr>> AddrArray(const char* key) const {
    std::vector<IpAddr> out;
    if (!j_.contains(key)) return out;
    if (!j_[key].is_array())
      return Fail(Errc::kInvalidArgument, fmt::format("{}.{}: expected an array", path_, key));
    for (size_t i = 0; i < j_[key].size(); ++i) {
      const json& e = j_[key][i];
      if (!e.is_string())
        return Fail(Errc::kInvalidArgument,
                    fmt::format("{}.{}[{}]: expected a string", path_, key, i));
      auto a = IpAddr::Parse(e.get<std::string>());
      if (!a) return Fail(a.error().Wrap(fmt::format("{}.{}[{}]", path_, key, i)));
      out.push_back(*a);
    }
    return out;
  }

 private:
  const json& j_;
  std::string path_;
};

Result<Uplink> ReadUplink(const json& j) {
  if (!j.is_object()) return Fail(Errc::kInvalidArgument, "config.uplink: expected an object");
  Reader r(j, "config.uplink");
  Uplink u;
  QNET_ASSIGN_OR_RETURN(u.ifname, r.Str("ifname"));
  QNET_ASSIGN_OR_RETURN(u.addr4, r.Prefix("addr4"));
  QNET_ASSIGN_OR_RETURN(u.gateway4, r.Addr("gateway4"));
  QNET_ASSIGN_OR_RETURN(u.addr6, r.OptPrefix("addr6"));
  QNET_ASSIGN_OR_RETURN(u.gateway6, r.OptAddr("gateway6"));
  QNET_ASSIGN_OR_RETURN(std::string mac, r.Str("gateway_mac", true));
  if (!mac.empty()) u.gateway_mac = mac;
  return u;
}

Result<Client> ReadClient(const json& j, size_t i) {
  std::string path = fmt::format("config.clients[{}]", i);
  if (!j.is_object()) return Fail(Errc::kInvalidArgument, path + ": expected an object");
  Reader r(j, path);
  Client c;
  QNET_ASSIGN_OR_RETURN(c.name, r.Str("name"));
  QNET_ASSIGN_OR_RETURN(c.vif, r.Str("vif"));
  QNET_ASSIGN_OR_RETURN(c.addr4, r.Addr("addr4"));
  QNET_ASSIGN_OR_RETURN(c.addr6, r.OptAddr("addr6"));
  if (!j.contains("id") || !j["id"].is_number_unsigned())
    return Fail(Errc::kInvalidArgument, path + ".id: expected an unsigned integer");
  c.id = j["id"].get<uint32_t>();
  return c;
}

}  // namespace

const Client* AgentConfig::FindClient(std::string_view name) const {
  for (const Client& c : clients)
    if (c.name == name) return &c;
  return nullptr;
}

std::string ToJson(const AgentConfig& c) {
  json j;
  j["qube"] = c.qube;
  j["role"] = RoleName(c.role);
  j["ipv6"] = c.ipv6;
  j["addr4"] = c.addr4.ToString();
  j["addr6"] = Opt(c.addr6);
  if (c.uplink) {
    const Uplink& u = *c.uplink;
    j["uplink"] = {{"ifname", u.ifname},
                   {"addr4", u.addr4.ToString()},
                   {"gateway4", u.gateway4.ToString()},
                   {"addr6", Opt(u.addr6)},
                   {"gateway6", Opt(u.gateway6)},
                   {"gateway_mac", u.gateway_mac ? json(*u.gateway_mac) : json(nullptr)}};
  }
  j["clients"] = json::array();
  for (const Client& cl : c.clients)
    j["clients"].push_back({{"name", cl.name},
                            {"id", cl.id},
                            {"vif", cl.vif},
                            {"addr4", cl.addr4.ToString()},
                            {"addr6", Opt(cl.addr6)}});
  j["dns_upstream"] = AddrList(c.dns_upstream);
  j["nameservers"] = AddrList(c.nameservers);
  j["sections"] = json::object();
  for (const auto& [name, text] : c.sections)
    j["sections"][name] = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.dump();
}

Result<AgentConfig> AgentConfigFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Fail(Errc::kInvalidArgument, "config: not a JSON object");
  Reader r(j, "config");
  AgentConfig c;
  QNET_ASSIGN_OR_RETURN(c.qube, r.Str("qube"));
  QNET_ASSIGN_OR_RETURN(std::string role, r.Str("role"));
  auto parsed_role = ParseRole(role);
  if (!parsed_role) return Fail(parsed_role.error().Wrap("config.role"));
  c.role = *parsed_role;
  if (!j.contains("ipv6") || !j["ipv6"].is_boolean())
    return Fail(Errc::kInvalidArgument, "config.ipv6: expected a boolean");
  c.ipv6 = j["ipv6"].get<bool>();
  QNET_ASSIGN_OR_RETURN(c.addr4, r.Addr("addr4"));
  QNET_ASSIGN_OR_RETURN(c.addr6, r.OptAddr("addr6"));
  if (j.contains("uplink") && !j["uplink"].is_null()) {
    QNET_ASSIGN_OR_RETURN(c.uplink, ReadUplink(j["uplink"]));
  }
  if (j.contains("clients")) {
    if (!j["clients"].is_array())
      return Fail(Errc::kInvalidArgument, "config.clients: expected an array");
    for (size_t i = 0; i < j["clients"].size(); ++i) {
      QNET_ASSIGN_OR_RETURN(Client cl, ReadClient(j["clients"][i], i));
      c.clients.push_back(std::move(cl));
    }
  }
  QNET_ASSIGN_OR_RETURN(c.dns_upstream, r.AddrArray("dns_upstream"));
  QNET_ASSIGN_OR_RETURN(c.nameservers, r.AddrArray("nameservers"));
  if (j.contains("sections") && !j["sections"].is_null()) {
    if (!j["sections"].is_object())
      return Fail(Errc::kInvalidArgument, "config.sections: expected an object");
    for (const auto& [name, value] : j["sections"].items()) c.sections[name] = value.dump();
  }
  return c;
}

}  // namespace qnet::qube
