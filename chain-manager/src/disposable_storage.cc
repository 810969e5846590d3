#include "disposable_storage.h"

#include <unistd.h>

#include <filesystem>

#include "cleanup.h"
#include "qnet/base/fd.h"
#include "qube_runtime.h"

namespace qnet::chain {
namespace {

constexpr const char* kMarker = "disposable";

}  // namespace

Status MarkDisposable(const Instance& inst, const std::string& qube) {
  const std::string dir = QubeIdPaths(inst, qube).qube_dir();
  QNET_TRY(MakeDirs(dir, 0700));
  return WriteFile(dir + "/" + kMarker, "", 0600);
}

bool IsMarkedDisposable(const Instance& inst, const std::string& qube) {
  const std::string marker = QubeIdPaths(inst, qube).qube_dir() + "/" + kMarker;
  return ::access(marker.c_str(), F_OK) == 0;
}

Status DiscardQubeStorage(const Instance& inst, const std::string& qube) {
  Status s = RemoveQubeStorage(inst, qube);
  if (!s && s.error().code() == Errc::kNotFound) return OkStatus();
  return s;
}

std::vector<std::string> DiscardDisposableStorage(const Instance& inst) {
  std::vector<std::string> errors;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path qubes = fs::path(inst.state_dir()) / "qubes";
  std::vector<std::string> marked;
  for (const auto& e : fs::directory_iterator(qubes, ec))
    if (fs::exists(e.path() / kMarker, ec)) marked.push_back(e.path().filename().string());
  for (const std::string& q : marked) {
    if (::access(inst.netns_path(q).c_str(), F_OK) == 0) continue;  // still running
    if (Status s = DiscardQubeStorage(inst, q); !s) errors.push_back(s.error().message());
  }
  return errors;
}

}  // namespace qnet::chain
