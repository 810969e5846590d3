#include "exec.h"

#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "qnet/base/process.h"
#include "qnet/qrexec/frame.h"

namespace qnet::agent {

int DropPrivileges(uid_t uid, gid_t gid) {
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return -1;
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return -1;
  if (::setgroups(0, nullptr) != 0) return -1;
  if (::setresgid(gid, gid, gid) != 0) return -1;
  if (::setresuid(uid, uid, uid) != 0) return -1;  // clears permitted and effective caps
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return 0;
}

namespace {

[[noreturn]] void RunCommand(const ExecRequest& req, std::vector<char*>& argv, int in, int out,
                             int err) {
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  CloseFdsFrom(3);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setsid();
  if (::chdir("/tmp") != 0 && ::chdir("/") != 0) ::_exit(126);
  if (!req.root && DropPrivileges(req.uid, req.gid) != 0) {
    static const char kMsg[] = "qnet-agent: cannot drop privileges\n";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    ::_exit(126);
  }
  static char kPath[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  static char kHome[] = "HOME=/tmp";
  static char kLang[] = "LANG=C.UTF-8";
  char* envp[] = {kPath, kHome, kLang, nullptr};
  ::execvpe(argv[0], argv.data(), envp);
  int e = errno;
  // As a shell words it: "NAME: command not found" (only write(2) after fork).
  const char* msg = e == ENOENT ? ": command not found\n" : ": cannot execute\n";
  (void)!::write(2, argv[0], std::strlen(argv[0]));
  (void)!::write(2, msg, std::strlen(msg));
  ::_exit(e == ENOENT ? 127 : 126);
}

}  // namespace

Status StartExec(const ExecRequest& req, UniqueFd in, UniqueFd out, UniqueFd err,
                 UniqueFd result) {
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
