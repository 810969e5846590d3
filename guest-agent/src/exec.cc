#include "exec.h"

#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "init.h"
#include "qnet/base/process.h"
#include "qnet/qrexec/frame.h"
#include "qnet/runtime/qube_view.h"

namespace qnet::agent {

namespace {

[[noreturn]] void RunCommand(const ExecRequest& req, std::vector<char*>& argv, int in, int out,
                             int err) {
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setsid();
  // The command dies with its waiter (the agent's child), never outlives it unseen.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  runtime::QubeUser user{
      .uid = req.root ? 0 : req.uid, .gid = req.root ? 0 : req.gid, .keep_caps = req.root};
  if (runtime::EnterQubeUserSide(kQubeViewFd, kQubeUsernsFd, user) != 0) {
    static const char kMsg[] = "qnet-agent: cannot enter the qube's user side\n";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    ::_exit(126);
  }
  CloseFdsFrom(3);
  if (req.root || ::chdir("/home/user") != 0) (void)!::chdir("/");
  static char kPath[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  static char kHome[] = "HOME=/home/user";
  static char kRootHome[] = "HOME=/";
  static char kLang[] = "LANG=C.UTF-8";
  char* envp[] = {kPath, req.root ? kRootHome : kHome, kLang, nullptr};
  ::execvpe(argv[0], argv.data(), envp);
  int e = errno;
  // As a shell words it: "NAME: command not found" (only write(2) after fork).
  const char* msg = e == ENOENT ? ": command not found\n" : ": cannot execute\n";
  (void)!::write(2, argv[0], std::strlen(argv[0]));
  (void)!::write(2, msg, std::strlen(msg));
  ::_exit(e == ENOENT ? 127 : 126);
}

}  // namespace

Status StartExec(const ExecRequest& req, UniqueFd in, UniqueFd out, UniqueFd err, UniqueFd result) {
  if (req.argv.empty()) return Fail(Errc::kInvalidArgument, "exec: empty command");
  std::vector<char*> argv;
  for (const auto& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t waiter = ::fork();
  if (waiter < 0) return Fail(ErrnoError("fork", errno));
  if (waiter > 0) return OkStatus();  // the init reaps the waiter's child if the waiter dies

  // Waiter: a child of the agent, so the agent can serve other calls now.
  pid_t cmd = ::fork();
  if (cmd < 0) ::_exit(1);
  if (cmd == 0) RunCommand(req, argv, in.get(), out.get(), err.get());
  in.reset();
  out.reset();
  err.reset();
  int status = 0;
  while (::waitpid(cmd, &status, 0) < 0 && errno == EINTR) {
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  auto frame = qrexec::EncodeFrame(qrexec::MsgType::kDataExitCode, qrexec::EncodeExitCode(code));
  if (frame) (void)WriteAll(result.get(), *frame);
  ::_exit(0);
}

}  // namespace qnet::agent
