#include "client.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "program_names.h"
#include "qnet/base/process.h"
#include "qnet/base/unix_socket.h"

namespace qnet::chain {
namespace {

Status StartDaemon(const Instance& inst) {
  std::error_code ec;
  auto dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  QNET_TRY(MakeDirs("/var/log/qnet", 0700));
  QNET_ASSIGN_OR_RETURN(UniqueFd log, OpenFd(inst.log_path(), O_WRONLY | O_CREAT | O_APPEND, 0600));
  auto child = Spawn({.argv = {(dir / kQnetdProgram).string(), "--instance", inst.name()},
                      .fds = {-1, log.get(), log.get()},
                      .new_session = true});
  if (!child) return Fail(child.error());
  child->release();  // qnetd daemonizes itself by outliving us; init reaps it
  return OkStatus();
}

}  // namespace

Result<qrexec::Channel> ConnectDaemon(const Instance& inst, bool start_if_needed) {
  auto fd = ConnectUnix(inst.socket_path());
  if (fd) return qrexec::Channel(std::move(*fd));
  if (!start_if_needed)
    return Fail(Errc::kUnavailable,
                fmt::format("qnetd (instance {}) is not running: no chain is up", inst.name()));
  QNET_TRY(StartDaemon(inst));
  for (int i = 0; i < 500; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    fd = ConnectUnix(inst.socket_path());
    if (fd) return qrexec::Channel(std::move(*fd));
  }
  return Fail(Errc::kUnavailable, fmt::format("qnetd did not start; see {}", inst.log_path()));
}

Result<qrexec::CallResult> AdminCall(qrexec::Channel& ch, const std::string& service,
                                     const std::string& input, const std::vector<int>& fds,
                                     bool long_running) {
  qrexec::CallRequest req{
      .service = service, .source = "dom0", .user = "root", .input = input, .fds = fds};
  auto timeout = long_running ? std::chrono::hours(24 * 365) : std::chrono::minutes(10);
  return qrexec::Call(ch, req, std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
}

}  // namespace qnet::chain
