#include "qnet/chain/template_store.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace qnet::chain {

std::string TemplateDir(const std::string& template_value, std::string_view root) {
  if (template_value.empty() || template_value.front() == '/') return template_value;
  return fmt::format("{}/{}", root, template_value);
}

bool CmdlineUsesTemplate(std::string_view cmdline, std::string_view dir) {
  std::string_view prev;
  size_t start = 0;
  while (start < cmdline.size()) {
    size_t end = cmdline.find('\0', start);
    if (end == std::string_view::npos) end = cmdline.size();
    std::string_view arg = cmdline.substr(start, end - start);
    if (prev == "--template" && arg == dir) return true;
    prev = arg;
    start = end + 1;
  }
  return false;
}

std::vector<int> TemplateUsers(const std::string& dir) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "cmdline");
    std::string text((std::istreambuf_iterator<char>(f)), {});
    if (CmdlineUsesTemplate(text, dir)) out.push_back(std::stoi(pid));
  }
  return out;
}

}  // namespace qnet::chain
