// Services as programs (service_exec.h): lookup, environment, exit codes,
// and a real process streaming through a data channel.
#include "qnet/qrexec/service_exec.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "qnet/qrexec/frame.h"
#include "qnet/qrexec/session.h"
#include "qnet/qrexec/transport.h"

namespace qnet::qrexec {
namespace {

using namespace std::chrono_literals;

std::pair<UniqueFd, UniqueFd> SocketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

class QrexecServiceExec : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/qnet-qrexec-rpc-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    qnet_dir_ = root_ + "/qnet-rpc";
    qubes_dir_ = root_ + "/qubes-rpc";
    std::filesystem::create_directories(qnet_dir_);
    std::filesystem::create_directories(qubes_dir_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void Script(const std::string& dir, const std::string& name, const std::string& body,
              int mode = 0755) {
    std::string path = dir + "/" + name;
    ASSERT_TRUE(WriteFile(path, "#!/bin/sh\n" + body + "\n", mode).ok());
    ::chmod(path.c_str(), static_cast<mode_t>(mode));
  }
  std::vector<std::string> Dirs() const { return {qnet_dir_, qubes_dir_}; }

  struct Outcome {
    Result<int32_t> code = 0;
    std::string out;
    std::string err;
    Status served;
  };

  // One call through a data channel to ServeProgram.
  Outcome Call(const ServiceCall& call, std::string input) {
    auto [requester, service] = SocketPair();
    Outcome o;
    std::thread server([&, ch = std::move(service)]() mutable {
      o.served = ServeProgram(std::move(ch), Dirs(), call, 30s);
    });
    auto [in, in_writer] = SocketPair();
    auto [out_reader, out] = SocketPair();
    auto [err_reader, err] = SocketPair();
    std::thread writer([&input, fd = std::move(in_writer)] {
      (void)::send(fd.get(), input.data(), input.size(), MSG_NOSIGNAL);
    });
    std::thread out_thread(
        [&o, fd = std::move(out_reader)] { o.out = ReadAll(fd.get()).value_or("?"); });
    std::thread err_thread(
        [&o, fd = std::move(err_reader)] { o.err = ReadAll(fd.get()).value_or("?"); });
    o.code = RunRequester(std::move(requester), std::move(in), std::move(out), std::move(err), 30s);
    writer.join();
    out_thread.join();
    err_thread.join();
    server.join();
    return o;
  }

  std::string root_, qnet_dir_, qubes_dir_;
};

TEST_F(QrexecServiceExec, ArgumentSpecificProgramBeatsTheGeneralOneInEveryDirectory) {
  Script(qnet_dir_, "qubes.Open", "echo general");
  Script(qubes_dir_, "qubes.Open+pdf", "echo pdf");
  EXPECT_EQ(FindServiceProgram(Dirs(), {"qubes.Open", "pdf", "work", "vault"}),
            qubes_dir_ + "/qubes.Open+pdf");
  EXPECT_EQ(FindServiceProgram(Dirs(), {"qubes.Open", "txt", "work", "vault"}),
            qnet_dir_ + "/qubes.Open");
  Script(qubes_dir_, "qubes.Only", "true", 0644);  // not executable: not a service
  EXPECT_EQ(FindServiceProgram(Dirs(), {"qubes.Only", "", "work", "vault"}), std::nullopt);
  Script(qnet_dir_, "qubes.Only", "true");
  EXPECT_EQ(FindServiceProgram(Dirs(), {"qubes.Only", "", "work", "vault"}),
            qnet_dir_ + "/qubes.Only");
}

TEST_F(QrexecServiceExec, ProgramGetsTheQrexecEnvironmentAndItsArgument) {
  Script(qubes_dir_, "qubes.Env",
         "echo \"$QREXEC_REMOTE_DOMAIN|$QREXEC_SERVICE_FULL_NAME|$QREXEC_SERVICE_ARGUMENT|"
         "$QREXEC_REQUESTED_TARGET|$1\"\necho to-stderr >&2\nexit 3");
  Outcome o = Call({"qubes.Env", "arg1", "work", "@default"}, "");
  ASSERT_TRUE(o.code.has_value()) << o.code.error().message();
  ASSERT_TRUE(o.served.ok()) << o.served.error().message();
  EXPECT_EQ(*o.code, 3);
  EXPECT_EQ(o.out, "work|qubes.Env+arg1|arg1|@default|arg1\n");
  EXPECT_EQ(o.err, "to-stderr\n");
}

TEST_F(QrexecServiceExec, MissingProgramAnswers127WithEmptyStreams) {
  Script(qubes_dir_, "qubes.Present", "echo here");  // positive control below
  Outcome missing = Call({"qubes.Absent", "", "work", "vault"}, "ignored input");
  ASSERT_TRUE(missing.code.has_value()) << missing.code.error().message();
  EXPECT_EQ(*missing.code, kExitNotFound);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err, "");
  Outcome present = Call({"qubes.Present", "", "work", "vault"}, "");
  ASSERT_TRUE(present.code.has_value()) << present.code.error().message();
  ASSERT_TRUE(present.served.ok()) << present.served.error().message();
  EXPECT_EQ(*present.code, 0);
  EXPECT_EQ(present.out, "here\n");
}

TEST_F(QrexecServiceExec, InvalidSourceNameIsAProblemNotAProgramRun) {
  Script(qubes_dir_, "qubes.Env", "echo ran");
  Outcome o = Call({"qubes.Env", "", "bad name;", "vault"}, "");
  ASSERT_TRUE(o.code.has_value());
  EXPECT_EQ(*o.code, kExitProblem);
  EXPECT_EQ(o.out, "");
}

// A real process (cat) echoing while it reads: 20 MB each way at once.
TEST_F(QrexecServiceExec, CatEchoes20MBThroughTheDataChannel) {
  Script(qubes_dir_, "qubes.Cat", "exec cat");
  std::string input(20 << 20, '\0');
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>((i * 131) >> 7);
  Outcome o = Call({"qubes.Cat", "", "work", "vault"}, input);
  ASSERT_TRUE(o.code.has_value()) << o.code.error().message();
  EXPECT_EQ(*o.code, 0);
  EXPECT_EQ(o.out.size(), input.size());
  EXPECT_TRUE(o.out == input);
}

// Two processes, as between two qubes: the service side in a child process
// (which runs the program, a third one) serves a call on a Qubes-named
// socket; the parent is the requester.
TEST_F(QrexecServiceExec, CallBetweenTwoProcessesOverANamedVchanSocket) {
  Script(qubes_dir_, "qubes.Cat", "cat; echo done >&2; exit 5");
  UnixSocketTransport transport(root_);
  VchanAddress address{0, 7, kFirstDataPort};
  // No thread runs in this test when it forks, so the child may allocate.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Result<UniqueFd> ch = transport.Accept(address, 30s);
    if (!ch) ::_exit(90);
    Status s = ServeProgram(std::move(*ch), Dirs(), {"qubes.Cat", "", "work", "vault"}, 30s);
    ::_exit(s.ok() ? 0 : 91);
  }
  std::string input(8 << 20, 'z');
  Result<UniqueFd> ch = transport.Connect(address, 30s);
  ASSERT_TRUE(ch.has_value()) << ch.error().message();
  auto [in, in_writer] = SocketPair();
  auto [out_reader, out] = SocketPair();
  auto [err_reader, err] = SocketPair();
  std::thread writer([&input, fd = std::move(in_writer)] {
    (void)::send(fd.get(), input.data(), input.size(), MSG_NOSIGNAL);
  });
  std::string got_out, got_err;
  std::thread out_thread(
      [&got_out, fd = std::move(out_reader)] { got_out = ReadAll(fd.get()).value_or(""); });
  std::thread err_thread(
      [&got_err, fd = std::move(err_reader)] { got_err = ReadAll(fd.get()).value_or(""); });
  Result<int32_t> code =
      RunRequester(std::move(*ch), std::move(in), std::move(out), std::move(err), 30s);
  writer.join();
  out_thread.join();
  err_thread.join();
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(code.has_value()) << code.error().message();
  EXPECT_EQ(*code, 5);
  EXPECT_EQ(got_out.size(), input.size());
  EXPECT_TRUE(got_out == input);
  EXPECT_EQ(got_err, "done\n");
}

}  // namespace
}  // namespace qnet::qrexec
