#include "tor_cli.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace qnet::chain {
namespace {

using nlohmann::json;

Result<json> Parse(std::string_view text, bool want_array) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || (want_array ? !j.is_array() : !j.is_object()))
    return Fail(Errc::kProtocol, "tor: qnetd's answer is not what qnet expects");
  return j;
}

std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

std::string ProgressBar(int percent, int width) {
  percent = std::clamp(percent, 0, 100);
  const int full = percent * width / 100;
  return "[" + std::string(static_cast<size_t>(full), '#') +
         std::string(static_cast<size_t>(width - full), '.') + "]";
}

int TorStatusProgress(std::string_view text) {
  auto j = Parse(text, false);
  if (!j || !j->contains("bootstrap") || !(*j)["bootstrap"].is_object()) return -1;
  return (*j)["bootstrap"].value("progress", -1);
}

Result<std::string> FormatTorStatus(std::string_view text) {
  QNET_ASSIGN_OR_RETURN(json j, Parse(text, false));
  std::string out = Str(j, "qube").empty() ? "" : Str(j, "qube") + ": ";
  const int progress = TorStatusProgress(text);
  if (progress < 0) {
    out += "bootstrap: not reported yet (tor not running or not connected)\n";
  } else {
    const json& b = j["bootstrap"];
    out += fmt::format("bootstrap {:3}% {} {}: {}\n", progress, ProgressBar(progress),
                       Str(b, "tag"), Str(b, "summary"));
    if (!Str(b, "warning").empty()) out += fmt::format("warning: {}\n", Str(b, "warning"));
  }
  const std::string gate = Str(j, "gate");
  out += gate == "open" ? "gate: open (downstream TCP to TransPort, DNS to DNSPort)\n"
                        : "gate: closed (downstream TCP and DNS refused at once)\n";
  out += fmt::format("control port: {}\n", Str(j, "control"));
  if (j.contains("counters") && j["counters"].is_object() && !j["counters"].empty()) {
    const json& c = j["counters"];
    auto n = [&](const char* key) { return c.value(key, uint64_t{0}); };
    out += fmt::format(
        "counters: refused {}, downstream dropped {}, forward dropped {}, uplink dropped {}\n",
        n("tor-refused"), n("tor-downstream-drop"), n("tor-forward-drop"), n("tor-uplink-drop"));
  }
  return out;
}

Result<std::string> FormatTorCircuits(std::string_view text) {
  QNET_ASSIGN_OR_RETURN(json j, Parse(text, true));
  if (j.empty()) return std::string("no circuits\n");
  std::string out;
  for (const json& c : j) {
    std::string path;
    if (c.contains("path") && c["path"].is_array())
      for (const json& hop : c["path"])
        if (hop.is_string()) path += (path.empty() ? "" : ",") + hop.get<std::string>();
    out += fmt::format("{} {} {} {}\n", c.value("id", uint64_t{0}), Str(c, "status"),
                       Str(c, "purpose"), path);
  }
  return out;
}

}  // namespace qnet::chain
