#include "cleanup.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "disposable_storage.h"
#include "qnet/base/fd.h"
#include "qnet/runtime/id_range.h"
#include "qnet/runtime/namespaces.h"

namespace qnet::chain {
namespace {

std::vector<std::string> RecordedNamespaces(const Instance& inst) {
  std::vector<std::string> out;
  auto text = ReadFile(inst.namespaces_file());
  if (!text) return out;
  std::istringstream in(*text);
  std::set<std::string> seen;
  for (std::string line; std::getline(in, line);) {
    // Only names of this instance: a corrupt record must not reach others'.
    if (line.rfind(inst.name() + "-", 0) != 0 || line.find('/') != std::string::npos) continue;
    if (seen.insert(line).second) out.push_back(line);
  }
  return out;
}

void KillAndReap(const std::vector<pid_t>& pids) {
  for (pid_t p : pids) ::kill(p, SIGKILL);
  // Our own children (qnetd started them) must be reaped, or they linger as zombies.
  for (pid_t p : pids) ::waitpid(p, nullptr, WNOHANG);
}

}  // namespace

Status RemoveNamespace(const Instance& inst, const std::string& netns_name, int* killed) {
  std::string path = std::string(runtime::kNetnsRunDir) + "/" + netns_name;
  (void)inst;
  if (::access(path.c_str(), F_OK) != 0) return OkStatus();
  auto ino = runtime::NamespaceInode(path);
  if (ino) {
    // A process may be mid-fork; look again until the namespace is empty.
    for (int round = 0; round < 50; ++round) {
      auto pids = runtime::PidsInNetns(*ino);
      if (!pids || pids->empty()) break;
      std::vector<pid_t> others;
      for (pid_t p : *pids)
        if (p != ::getpid()) others.push_back(p);
      if (others.empty()) break;
      if (killed) *killed += static_cast<int>(others.size());
      KillAndReap(others);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return runtime::UnpinNamespace(path);
}

CleanupReport CleanupInstance(const Instance& inst, bool keep_daemon_files) {
  CleanupReport report;
  // Qubes first, the lab last: a qube never outlives the uplink's absence open.
  std::vector<std::string> names = RecordedNamespaces(inst);
  std::stable_partition(names.begin(), names.end(), [&](const std::string& n) {
    return n.rfind(inst.name() + "-lab-", 0) != 0;
  });
  for (const std::string& n : names) {
    Status s = RemoveNamespace(inst, n, &report.processes_killed);
    if (!s)
      report.errors.push_back(s.error().message());
    else
      ++report.namespaces_removed;
  }
  // Reap any child of ours that died meanwhile.
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  // Disposables leave no files (their homes and id ranges go with them).
  for (std::string& e : DiscardDisposableStorage(inst)) report.errors.push_back(std::move(e));
  std::error_code ec;
  std::filesystem::remove(inst.state_file(), ec);
  std::filesystem::remove(inst.state_dir(), ec);
  namespace fs = std::filesystem;
  if (fs::exists(inst.runtime_dir(), ec)) {
    for (const auto& entry : fs::directory_iterator(inst.runtime_dir(), ec)) {
      const std::string p = entry.path().string();
      if (keep_daemon_files &&
          (p == inst.socket_path() || p == inst.lock_path() || p == inst.log_path()))
        continue;
      fs::remove_all(entry.path(), ec);
      if (ec) report.errors.push_back(fmt::format("remove {}: {}", p, ec.message()));
    }
    if (!keep_daemon_files) fs::remove(inst.runtime_dir(), ec);
  }
  return report;
}

Status RemoveQubeStorage(const Instance& inst, const std::string& qube) {
  const bool valid_name =
      !qube.empty() && qube.size() <= 31 && qube.front() != '-' &&
      qube.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
  if (!valid_name)
    return Fail(Errc::kInvalidArgument, fmt::format("'{}' is not a qube name", qube));
  if (::access(inst.netns_path(qube).c_str(), F_OK) == 0)
    return Fail(Errc::kFailedPrecondition,
                fmt::format("qube {} is running; bring it down first", qube));
  runtime::IdRangePaths ids;
  ids.instance = inst.name();
  ids.qube = qube;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(ids.qube_dir(), ec))
    return Fail(Errc::kNotFound, fmt::format("qube {} has no storage in {}", qube, inst.name()));
  QNET_TRY(runtime::ReleaseIdSlot(ids));
  fs::remove_all(ids.qube_dir(), ec);
  if (ec) return Fail(Errc::kIo, fmt::format("remove {}: {}", ids.qube_dir(), ec.message()));
  // The instance's assembled /etc and state directory go with its last qube
  // (the next qube assembles /etc from the host's again).
  if (fs::remove(fs::path(ids.qube_dir()).parent_path(), ec)) {
    fs::remove_all(inst.state_dir() + "/etc", ec);
    fs::remove(inst.state_dir(), ec);
  }
  return OkStatus();
}

}  // namespace qnet::chain
