#include "qnet/qube/supervised_service.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

namespace qnet::qube {
namespace {

using nlohmann::json;

constexpr size_t kMaxName = 32;
constexpr uint32_t kMaxQubeId = 65535;

Unexpected<Error> Bad(std::string_view where, std::string_view what) {
  return Fail(Errc::kInvalidArgument, fmt::format("service {}: {}", where, what));
}

bool ValidName(std::string_view n) {
  if (n.empty() || n.size() > kMaxName) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

Result<std::vector<std::string>> Strings(const json& j, std::string_view where, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  if (!j[key].is_array()) return Bad(where, fmt::format("{}: expected an array of strings", key));
  for (const auto& v : j[key]) {
    if (!v.is_string()) return Bad(where, fmt::format("{}: expected an array of strings", key));
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<uint32_t> Id(const json& j, std::string_view where, const char* key) {
  if (!j.contains(key)) return 0u;
  if (!j[key].is_number_unsigned() || j[key].get<uint64_t>() > kMaxQubeId)
    return Bad(where, fmt::format("{}: expected a qube id 0..{}", key, kMaxQubeId));
  return static_cast<uint32_t>(j[key].get<uint64_t>());
}

Result<int> Int(const json& j, std::string_view where, const char* key, int fallback) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_number_integer()) return Bad(where, fmt::format("{}: expected an integer", key));
  return j[key].get<int>();
}

}  // namespace

Status ValidateService(const SupervisedService& s) {
  if (!ValidName(s.name)) return Bad(fmt::format("'{}'", s.name), "name: 1..32 of [a-z0-9-]");
  if (s.argv.empty() || s.argv[0].empty() || s.argv[0][0] != '/')
    return Bad(s.name, "argv: argv[0] must be an absolute path");
  for (const auto& a : s.argv)
    if (a.find('\0') != std::string::npos) return Bad(s.name, "argv: NUL in an argument");
  for (const auto& e : s.env)
    if (e.find('=') == std::string::npos || e.front() == '=' || e.find('\0') != std::string::npos)
      return Bad(s.name, "env: expected KEY=VALUE");
  if (s.uid > kMaxQubeId || s.gid > kMaxQubeId)
    return Bad(s.name, fmt::format("uid/gid: qube ids are 0..{}", kMaxQubeId));
  return OkStatus();
}

std::string ServicesToJson(const std::vector<SupervisedService>& services) {
  json out = json::array();
  for (const auto& s : services)
    out.push_back({{"name", s.name},
                   {"argv", s.argv},
                   {"env", s.env},
                   {"uid", s.uid},
                   {"gid", s.gid},
                   {"own_netns", s.own_netns}});
  return out.dump();
}

Result<std::vector<SupervisedService>> ServicesFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return Fail(Errc::kInvalidArgument, "services: expected a JSON array");
  std::vector<SupervisedService> out;
  std::set<std::string> names;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    std::string where = fmt::format("[{}]", i);
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string())
      return Bad(where, "name: missing");
    SupervisedService s;
    s.name = e["name"].get<std::string>();
    QNET_ASSIGN_OR_RETURN(s.argv, Strings(e, where, "argv"));
    QNET_ASSIGN_OR_RETURN(s.env, Strings(e, where, "env"));
    QNET_ASSIGN_OR_RETURN(s.uid, Id(e, where, "uid"));
    QNET_ASSIGN_OR_RETURN(s.gid, Id(e, where, "gid"));
    if (e.contains("own_netns")) {
      if (!e["own_netns"].is_boolean()) return Bad(where, "own_netns: expected a boolean");
      s.own_netns = e["own_netns"].get<bool>();
    }
    QNET_TRY(ValidateService(s));
    if (!names.insert(s.name).second) return Bad(s.name, "name: given twice");
    out.push_back(std::move(s));
  }
  return out;
}

std::string StatesToJson(const std::vector<ServiceState>& states) {
  json out = json::array();
  for (const auto& s : states)
    out.push_back(
        {{"name", s.name}, {"pid", s.pid}, {"restarts", s.restarts}, {"last_exit", s.last_exit}});
  return out.dump();
}

Result<std::vector<ServiceState>> StatesFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return Fail(Errc::kInvalidArgument, "service states: expected a JSON array");
  std::vector<ServiceState> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    std::string where = fmt::format("state [{}]", i);
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string())
      return Bad(where, "name: missing");
    ServiceState s;
    s.name = e["name"].get<std::string>();
    QNET_ASSIGN_OR_RETURN(int pid, Int(e, where, "pid", 0));
    s.pid = pid;
    QNET_ASSIGN_OR_RETURN(s.restarts, Int(e, where, "restarts", 0));
    QNET_ASSIGN_OR_RETURN(s.last_exit, Int(e, where, "last_exit", -1));
    out.push_back(std::move(s));
  }
  return out;
}

std::string ServiceNetnsPath(std::string_view name, std::string_view dir) {
  return fmt::format("{}/netns-{}", dir, name);
}

}  // namespace qnet::qube
