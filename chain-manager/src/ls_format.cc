#include "ls_format.h"

#include <nlohmann/json.hpp>

#include "qnet/qube/label.h"

namespace qnet::chain {

Result<std::string> FormatQubeTable(const std::string& rows_json, bool color) {
  auto rows = nlohmann::json::parse(rows_json, nullptr, false);
  if (rows.is_discarded() || !rows.is_array())
    return Fail(Errc::kProtocol, "qnetd sent a malformed qube list");
  // CLASS as qvm-ls shows it: DispVM for a disposable, AppVM otherwise.
  std::vector<std::array<std::string, 8>> table = {
      {"NAME", "CLASS", "STATE", "ROLE", "LABEL", "NETVM", "IP", "DROPS(in/fwd/out)"}};
  for (const auto& r : rows) {
    std::string drops = "-";
    if (r.contains("drops") && r["drops"].is_object())
      drops = fmt::format("{}/{}/{}", r["drops"].value("input", 0ULL),
                          r["drops"].value("forward", 0ULL), r["drops"].value("output", 0ULL));
    const std::string netvm = r.contains("netvm") && r["netvm"].is_string()
                                  ? r["netvm"].get<std::string>()
                                  : std::string("-");
    table.push_back({r.value("name", ""), r.value("class", "AppVM"), r.value("state", ""),
                     r.value("role", ""), r.value("label", ""), netvm, r.value("ip", ""), drops});
  }
  std::array<size_t, 8> width{};
  for (const auto& row : table)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (size_t n = 0; n < table.size(); ++n) {
    const auto& row = table[n];
    for (size_t i = 0; i < row.size(); ++i) {
      const bool last = i + 1 == row.size();
      std::string cell = last ? row[i] : fmt::format("{:<{}}", row[i], width[i]);
      if (i == 4 && n > 0 && color) {
        auto label = qube::ParseLabel(row[i]);
        if (label)
          cell = fmt::format("{}{}{}", qube::LabelAnsiColor(*label), cell, qube::kAnsiReset);
      }
      out += cell;
      out += i + 1 < row.size() ? "  " : "\n";
    }
  }
  return out;
}

}  // namespace qnet::chain
