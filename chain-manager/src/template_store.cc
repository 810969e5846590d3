#include "qnet/chain/template_store.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "qnet/base/fd.h"

namespace qnet::chain {

std::string TemplateDir(const std::string& template_value, std::string_view root) {
  if (template_value.empty() || template_value.front() == '/') return template_value;
  return fmt::format("{}/{}", root, template_value);
}

Status RecordTemplateUse(const std::string& instance_runtime_dir, const std::string& qube,
                         const std::string& dir) {
  const std::string records = instance_runtime_dir + "/templates";
  QNET_TRY(MakeDirs(records, 0700));
  return WriteFileAtomic(records + "/" + qube, dir + "\n", 0600);
}

void ForgetTemplateUse(const std::string& instance_runtime_dir, const std::string& qube) {
  ::unlink(fmt::format("{}/templates/{}", instance_runtime_dir, qube).c_str());
}

std::vector<std::string> TemplateUsers(const std::string& dir, const std::string& run_root,
                                       const std::string& netns_root) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& inst : fs::directory_iterator(run_root, ec)) {
    std::error_code ec2;
    for (const auto& rec : fs::directory_iterator(inst.path() / "templates", ec2)) {
      auto text = ReadFile(rec.path().string());
      if (!text || *text != dir + "\n") continue;
      const std::string instance = inst.path().filename().string();
      const std::string qube = rec.path().filename().string();
      if (fs::exists(fmt::format("{}/{}-{}", netns_root, instance, qube), ec2))
        out.push_back(instance + "/" + qube);
    }
  }
  return out;
}

}  // namespace qnet::chain
