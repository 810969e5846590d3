// The tor capability's pure part: its section of the agent's config, the
// plan (rules' parameters and torrc) derived from the qube's config, and
// the argv the qube's init runs.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "qnet/tor/capability.h"
#include "qnet/tor/config_key.h"

namespace qnet::tor {
namespace {

using config::Value;
using nlohmann::json;

json ValueToJson(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString:
      return v.as_string();
    case Value::Kind::kInteger:
      return v.as_integer();
    case Value::Kind::kBoolean:
      return v.as_boolean();
    case Value::Kind::kArray: {
      json a = json::array();
      for (const Value& e : v.as_array()) a.push_back(ValueToJson(e));
      return a;
    }
    case Value::Kind::kTable: {
      json o = json::object();
      for (const Value::Member& m : v.as_table()) o[m.key] = ValueToJson(m.value);
      return o;
    }
  }
  return nullptr;
}

Result<Value> JsonToValue(const json& j, std::string_view where) {
  if (j.is_string()) return Value::String(j.get<std::string>());
  if (j.is_boolean()) return Value::Boolean(j.get<bool>());
  if (j.is_number_integer()) return Value::Integer(j.get<int64_t>());
  if (j.is_array()) {
    Value::Array a;
    for (size_t i = 0; i < j.size(); ++i) {
      QNET_ASSIGN_OR_RETURN(Value e, JsonToValue(j[i], fmt::format("{}[{}]", where, i)));
      a.push_back(std::move(e));
    }
    return Value::MakeArray(std::move(a));
  }
  if (j.is_object()) {
    Value::Table t;
    for (const auto& [key, value] : j.items()) {
      QNET_ASSIGN_OR_RETURN(Value e, JsonToValue(value, fmt::format("{}.{}", where, key)));
      t.push_back(Value::Member{.key = key, .key_pos = {}, .value = std::move(e)});
    }
    return Value::MakeTable(std::move(t));
  }
  return Fail(Errc::kInvalidArgument, fmt::format("{}: not a string, integer, boolean, array or "
                                                  "object",
                                                  where));
}

// What DirAuthorityLines prints, and nothing else: these lines reach the
// torrc as text, so each must be exactly that shape.
bool IsDirAuthorityLine(const std::string& line) {
  static const std::regex kLine(
      "DirAuthority [A-Za-z0-9]{1,19} orport=[0-9]{1,5} no-v2 v3ident=[0-9A-Fa-f]{40} "
      "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}:[0-9]{1,5} [0-9A-Fa-f]{40}");
  return std::regex_match(line, kLine);
}

Error Invalid(std::string message) {
  return Error(Errc::kInvalidArgument, "tor section: " + std::move(message));
}

}  // namespace

Result<GatewaySection> GatewaySectionFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Invalid("not a JSON object");
  GatewaySection out;
  for (const auto& [key, value] : j.items()) {
    if (key == "options") {
      QNET_ASSIGN_OR_RETURN(Value v, JsonToValue(value, "options"));
      auto options = TorOptionsFromValue(v);
      if (!options) return Invalid(options.error().message());
      out.options = std::move(*options);
    } else if (key == "lab") {
      if (!value.is_object()) return Invalid("lab: not an object");
      out.lab = true;
      for (const auto& [lk, lv] : value.items()) {
        if (lk != "dir_authorities") return Invalid(fmt::format("lab.{}: unknown field", lk));
        if (!lv.is_array()) return Invalid("lab.dir_authorities: not an array");
        for (size_t i = 0; i < lv.size(); ++i) {
          if (!lv[i].is_string() || !IsDirAuthorityLine(lv[i].get<std::string>()))
            return Invalid(fmt::format("lab.dir_authorities[{}]: not a DirAuthority line", i));
          out.dir_authorities.push_back(lv[i].get<std::string>());
        }
      }
    } else {
      return Invalid(fmt::format("{}: unknown field", key));
    }
  }
  return out;
}

std::string GatewaySectionToJson(const GatewaySection& s) {
  json j = json::object();
  j["options"] = ValueToJson(TorOptionsToValue(s.options));
  if (s.lab || !s.dir_authorities.empty()) j["lab"] = {{"dir_authorities", s.dir_authorities}};
  return j.dump();
}

Result<GatewayPlan> PlanGateway(const qube::AgentConfig& config, uint32_t id_base,
                                const GatewayPaths& paths, bool control_port) {
  if (id_base == 0)
    return Fail(Errc::kInvalidArgument, "tor: the qube has no host id range (uncontained)");
  if (!config.uplink) return Fail(Errc::kInvalidArgument, "tor: the gateway has no uplink");
  if (!config.addr4.is_v4())
    return Fail(Errc::kInvalidArgument, "tor: the gateway has no IPv4 address");
  GatewaySection section;
  if (auto it = config.sections.find(std::string(kCapability)); it != config.sections.end()) {
    QNET_ASSIGN_OR_RETURN(section, GatewaySectionFromJson(it->second));
  }
  GatewayPlan plan;
  plan.rules.uplink = config.uplink->ifname;
  plan.rules.gateway_address = config.addr4;
  plan.rules.tor_uid = id_base + kTorUid;
  GatewayTorConfig& t = plan.torrc;
  t.data_directory = paths.data_dir;
  t.gateway_address = config.addr4;
  t.socks_port = plan.rules.socks_port;
  t.trans_port = plan.rules.trans_port;
  t.dns_port = plan.rules.dns_port;
  t.control_socket = paths.control_socket();
  if (control_port) t.control_port = kTorControlPort;
  t.options = std::move(section.options);
  plan.lab = section.lab || !section.dir_authorities.empty();
  plan.dir_authorities = std::move(section.dir_authorities);
  return plan;
}

Result<std::string> GatewayTorrc(const GatewayPlan& plan) {
  QNET_ASSIGN_OR_RETURN(std::string out, RenderTorrc(plan.torrc));
  // The lab without its Tor network: never try the public network's
  // addresses (the lab routes nowhere, and tests send nothing outside it).
  if (plan.lab && plan.dir_authorities.empty()) return out + "DisableNetwork 1\n";
  if (plan.dir_authorities.empty()) return out;
  // The lab's private network (docs/lab.md): its authorities instead of
  // the public ones, with the testing network's short timings.
  out += "TestingTorNetwork 1\n";
  for (const std::string& line : plan.dir_authorities) {
    if (!IsDirAuthorityLine(line))
      return Fail(Errc::kInvalidArgument, "tor: a lab DirAuthority line is malformed");
    out += line + "\n";
  }
  return out;
}

std::vector<std::string> TorServiceArgv(const GatewayPaths& paths) {
  // --defaults-torrc /dev/null: Debian's /usr/share/tor/tor-service-defaults-torrc
  // must not add ports or a different DataDirectory.
  return {"/usr/bin/tor", "--defaults-torrc", "/dev/null", "-f", paths.torrc()};
}

qube::SupervisedService TorService(const GatewayPaths& paths) {
  return {.name = "tor",
          .argv = TorServiceArgv(paths),
          .env = {"HOME=" + paths.data_dir},
          .uid = kTorUid,
          .gid = kTorGid,
          .own_netns = false};
}

}  // namespace qnet::tor
