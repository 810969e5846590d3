// The netns backend: QubeBackend over today's namespace code. Spawning and
// the agent's channel are QubeProcess's (qube_runtime.cc), links are veths
// made from inside the namespaces (links.cc), teardown is cleanup.cc's.
#include "netns_backend.h"

#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "disposable_storage.h"
#include "lab_runtime.h"
#include "links.h"
#include "qube_runtime.h"

namespace qnet::chain {
namespace {

class NetnsBackend final : public QubeBackend {
 public:
  explicit NetnsBackend(Instance inst) : inst_(std::move(inst)) {}

  std::string_view name() const override { return "netns"; }

  Result<std::unique_ptr<RunningQube>> Spawn(const SpawnParams& params) override {
    // A dead qube's pinned namespace (its rules kept it closed) goes first.
    QNET_TRY(RemoveNamespace(inst_, inst_.netns_name(params.name), nullptr));
    if (params.disposable) {
      QNET_TRY(DiscardQubeStorage(inst_, params.name));
      QNET_TRY(MarkDisposable(inst_, params.name));
    }
    QNET_ASSIGN_OR_RETURN(auto q, QubeProcess::Spawn(inst_, params));
    return std::unique_ptr<RunningQube>(std::move(q));
  }

  Result<std::unique_ptr<RunningQube>> Adopt(const std::string& name,
                                             const QubeRecord& record) override {
    QNET_ASSIGN_OR_RETURN(auto q, QubeProcess::Adopt(inst_, name, record.pid, record.start_time));
    return std::unique_ptr<RunningQube>(std::move(q));
  }

  Status Connect(RunningQube& netvm, RunningQube& client, const std::string& vif,
                 const std::string& client_ifname) override {
    return CreateVifLink(VifLink{.netvm_netns_fd = netvm.netns_fd(),
                                 .client_netns_fd = client.netns_fd(),
                                 .vif = vif,
                                 .client_ifname = client_ifname});
  }

  Result<std::unique_ptr<Lab>> StartLab(const std::string& lab_bin, bool ipv6) override {
    QNET_ASSIGN_OR_RETURN(auto lab, LabRuntime::Start(inst_, lab_bin, ipv6));
    return std::unique_ptr<Lab>(std::move(lab));
  }

  Result<std::unique_ptr<Lab>> AdoptLab(bool ipv6) override {
    QNET_ASSIGN_OR_RETURN(auto lab, LabRuntime::Adopt(inst_, ipv6));
    return std::unique_ptr<Lab>(std::move(lab));
  }

  Status Remove(RunningQube& qube) override {
    int killed = 0;
    Status s = RemoveNamespace(inst_, inst_.netns_name(qube.name()), &killed);
    // The init is qnetd's child unless it was adopted: reap it, or it
    // lingers as a zombie.
    if (const pid_t pid = qube.record().pid; pid > 0) ::waitpid(pid, nullptr, WNOHANG);
    // Its agent's socket is stale now.
    ::unlink(fmt::format("{}/{}.sock", inst_.agents_dir(), qube.name()).c_str());
    if (s && IsMarkedDisposable(inst_, qube.name())) return DiscardQubeStorage(inst_, qube.name());
    return s;
  }

  CleanupReport CleanupInstance(bool keep_daemon_files) override {
    return chain::CleanupInstance(inst_, keep_daemon_files);
  }

  Status RemoveStorage(const std::string& qube) override { return RemoveQubeStorage(inst_, qube); }

 private:
  Instance inst_;
};

}  // namespace

std::unique_ptr<QubeBackend> NewNetnsBackend(const Instance& inst) {
  return std::make_unique<NetnsBackend>(inst);
}

}  // namespace qnet::chain
