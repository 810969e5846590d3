#include "admin_services.h"

#include <nlohmann/json.hpp>

namespace qnet::chain {
namespace {

using nlohmann::json;
using qrexec::ServiceReply;
using qrexec::ServiceRequest;

ServiceReply Ok(std::string out) { return {0, std::move(out), {}}; }
ServiceReply Err(const Error& e) { return {kAdminErrorExit, {}, e.message() + "\n"}; }
ServiceReply BadInput(std::string_view what) {
  return {2, {}, fmt::format("bad request: {}\n", what)};
}

Result<json> ParseInput(const ServiceRequest& r) {
  json j = json::parse(r.input.empty() ? "{}" : r.input, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Fail(Errc::kInvalidArgument, "request is not a JSON object");
  return j;
}

template <typename T>
ServiceReply FromResult(const Result<T>& r, auto&& to_out) {
  if (!r) return Err(r.error());
  return Ok(to_out(*r));
}

json RowJson(const QubeRow& r) {
  // For scripts: null for what a qube does not have (no netvm, no process).
  json j = {{"name", r.name},
            {"state", r.state},
            {"role", r.role},
            {"class", r.disposable ? "DispVM" : "AppVM"},
            {"label", r.label},
            {"netvm", r.netvm ? json(*r.netvm) : json(nullptr)},
            {"ip", r.ip},
            {"id", r.id},
            {"pid", r.init_pid != 0 ? json(r.init_pid) : json(nullptr)}};
  if (r.counters_ok)
    j["drops"] = {
        {"input", r.drops_input}, {"forward", r.drops_forward}, {"output", r.drops_output}};
  else
    j["drops"] = nullptr;
  return j;
}

}  // namespace

qrexec::ServiceTable AdminServices(Daemon& d, std::atomic<bool>& exit_requested) {
  auto table = qrexec::ServiceTable::Create({
      {"admin.Ping", [](ServiceRequest&) { return Ok("pong\n"); }},
      {"admin.Up",
       [&d](ServiceRequest& r) {
         auto j = ParseInput(r);
         if (!j || !(*j)["path"].is_string() || !(*j)["text"].is_string())
           return BadInput("admin.Up wants {path, text}");
         return FromResult(d.Up((*j)["path"], (*j)["text"]), [](const auto& s) { return s; });
       }},
      {"admin.Down",
       [&d, &exit_requested](ServiceRequest& r) {
         auto j = ParseInput(r);
         if (!j) return BadInput(j.error().message());
         std::string qube = j->value("qube", "");
         auto res = d.Down(qube, j->value("recursive", false));
         if (qube.empty() && res) exit_requested = true;
         return FromResult(res, [](const auto& s) { return s; });
       }},
      {"admin.Start",
       [&d](ServiceRequest& r) {
         auto j = ParseInput(r);
         if (!j || !(*j)["qube"].is_string()) return BadInput("admin.Start wants {qube}");
         return FromResult(d.Start((*j)["qube"]), [](const auto& s) { return s; });
       }},
      {"admin.Restart",
       [&d](ServiceRequest& r) {
         auto j = ParseInput(r);
         if (!j || !(*j)["qube"].is_string()) return BadInput("admin.Restart wants {qube}");
         return FromResult(d.Restart((*j)["qube"]), [](const auto& s) { return s; });
       }},
      {"admin.List",
       [&d](ServiceRequest&) {
         return FromResult(d.List(), [](const std::vector<QubeRow>& rows) {
           json out = json::array();
           for (const auto& row : rows) out.push_back(RowJson(row));
           return out.dump();
         });
       }},
      {"admin.Graph",
       [&d](ServiceRequest&) { return FromResult(d.Graph(), [](const auto& s) { return s; }); }},
      {"admin.Save",
       [&d](ServiceRequest&) { return FromResult(d.Save(), [](const auto& s) { return s; }); }},
      {"admin.Exec",
       [&d](ServiceRequest& r) {
         auto j = ParseInput(r);
         if (!j || !(*j)["qube"].is_string() || !(*j)["argv"].is_array() || (*j)["argv"].empty())
           return BadInput("admin.Exec wants {qube, argv[], root}");
         if (r.fds.size() != 3) return BadInput("admin.Exec wants 3 fds (stdin, stdout, stderr)");
         std::vector<std::string> argv;
         for (const auto& a : (*j)["argv"]) {
           if (!a.is_string()) return BadInput("argv must be strings");
           argv.push_back(a.get<std::string>());
         }
         std::vector<int> stdio = {r.fds[0].get(), r.fds[1].get(), r.fds[2].get()};
         auto code = d.Exec((*j)["qube"], argv, j->value("root", false), stdio);
         if (!code) return Err(code.error());
         return ServiceReply{*code, {}, {}};
       }},
      {"admin.Dispvm", DispvmService(d)},
      {"admin.Firewall",
       [&d](ServiceRequest& r) {
         auto j = ParseInput(r);
         if (!j || !(*j)["qube"].is_string() || !(*j)["op"].is_string())
           return BadInput("admin.Firewall wants {qube, op, rules[], before, json}");
         FirewallRequest fr{.qube = (*j)["qube"],
                            .op = (*j)["op"],
                            .json = j->value("json", false),
                            .raw = j->value("raw", false)};
         for (const auto& a : j->value("rules", json::array())) {
           if (!a.is_string()) return BadInput("rules must be strings");
           fr.rules.push_back(a.get<std::string>());
         }
         if (j->contains("before")) {
           if (!(*j)["before"].is_number_unsigned())
             return BadInput("before must be a rule number (0 = first)");
           fr.before = (*j)["before"].get<size_t>();
         }
         return FromResult(d.Firewall(fr), [](const auto& s) { return s; });
       }},
      {"admin.Tor",
       [&d](ServiceRequest& r) {
         auto j = ParseInput(r);
         if (!j || !(*j)["qube"].is_string() || !(*j)["op"].is_string())
           return BadInput("admin.Tor wants {qube, op}");
         return FromResult(d.Tor((*j)["qube"], (*j)["op"]), [](const auto& s) { return s; });
       }},
#ifdef QNET_TEST_HOOKS
      {"admin.TestReload",
       [&d](ServiceRequest& r) {
         auto j = ParseInput(r);
         if (!j || !(*j)["qube"].is_string())
           return BadInput("admin.TestReload wants {qube, count}");
         return FromResult(
             d.TestReload((*j)["qube"], j->value("count", 1), j->value("unsafe", false)),
             [](const auto& s) { return s; });
       }},
#endif
  });
  return std::move(*table);
}

}  // namespace qnet::chain
