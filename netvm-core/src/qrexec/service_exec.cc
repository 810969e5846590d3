// Services as programs (service_exec.h).
#include "qnet/qrexec/service_exec.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "qnet/base/process.h"
#include "qnet/qrexec/command_line.h"
#include "qnet/qrexec/frame.h"
#include "qnet/qrexec/session.h"

extern char** environ;

namespace qnet::qrexec {
namespace {

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Fail(ErrnoError("pipe2", errno));
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Answers a call no program serves: both streams empty, then `code`.
Status AnswerWithoutProgram(UniqueFd channel, int32_t code,
                            std::optional<std::chrono::milliseconds> timeout) {
  return RunService(
      std::move(channel), UniqueFd(), UniqueFd(), UniqueFd(), [code] { return code; }, timeout);
}

}  // namespace

std::optional<std::string> FindServiceProgram(const std::vector<std::string>& dirs,
                                              const ServiceCall& call) {
  std::vector<std::string> names;
  if (!call.argument.empty()) names.push_back(call.service + "+" + call.argument);
  names.push_back(call.service);
  for (const std::string& name : names) {
    for (const std::string& dir : dirs) {
      std::string path = dir + "/" + name;
      if (IsExecutableFile(path)) return path;
    }
  }
  return std::nullopt;
}

std::vector<std::string> ServiceEnvironment(const ServiceCall& call) {
  std::vector<std::string> env = {
      "QREXEC_REMOTE_DOMAIN=" + call.source,
      "QREXEC_SERVICE_FULL_NAME=" + ServiceDescriptor(call.service, call.argument),
      "QREXEC_REQUESTED_TARGET=" + call.requested_target,
  };
  if (!call.argument.empty()) env.push_back("QREXEC_SERVICE_ARGUMENT=" + call.argument);
  return env;
}

Status ServeProgram(UniqueFd channel, const std::vector<std::string>& dirs, const ServiceCall& call,
                    std::optional<std::chrono::milliseconds> timeout) {
  // Names reach a path and an environment: only validated ones.
  if (!ValidateServiceName(call.service) || !ValidateServiceArgument(call.service, call.argument) ||
      !ValidateQubeName(call.source)) {
    return AnswerWithoutProgram(std::move(channel), kExitProblem, timeout);
  }
  std::optional<std::string> program = FindServiceProgram(dirs, call);
  if (!program) return AnswerWithoutProgram(std::move(channel), kExitNotFound, timeout);

  Result<Pipe> in = MakePipe();
  Result<Pipe> out = MakePipe();
  Result<Pipe> err = MakePipe();
  if (!in || !out || !err) return AnswerWithoutProgram(std::move(channel), kExitProblem, timeout);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with("QREXEC_")) continue;
    env.emplace_back(*e);
  }
  for (std::string& v : ServiceEnvironment(call)) env.push_back(std::move(v));
  SpawnOptions options;
  options.argv = {*program};
  if (!call.argument.empty()) options.argv.push_back(call.argument);
  options.fds = {in->read.get(), out->write.get(), err->write.get()};
  options.env = std::move(env);
  Result<ChildProcess> child = Spawn(options);
  if (!child) return AnswerWithoutProgram(std::move(channel), kExitProblem, timeout);
  // The child holds its ends; ours must close so that EOF reaches each side.
  in->read.reset();
  out->write.reset();
  err->write.reset();
  Status served = RunService(
      std::move(channel), std::move(in->write), std::move(out->read), std::move(err->read),
      [&child] { return static_cast<int32_t>(child->Wait().value_or(kExitProblem)); }, timeout);
  // On failure the ChildProcess destructor kills and reaps the program.
  return served;
}

}  // namespace qnet::qrexec
