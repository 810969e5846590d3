#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace qnet::testing {
namespace fs = std::filesystem;

CmdResult RunCmd(const std::vector<std::string>& argv, int timeout_s,
                 const std::vector<std::string>& extra_env) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    for (const auto& e : extra_env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  CmdResult r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      r.err += "\n[harness: timed out]";
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string Bin(const std::string& program) {
  return (fs::read_symlink("/proc/self/exe").parent_path() / program).string();
}

std::string SourceDir() { return QNET_SOURCE_DIR; }

namespace {

// Appends what is readable on `fd` to `text` until `done(text)` or EOF or
// the deadline; false on EOF or timeout.
template <typename Done>
bool ReadUntil(int fd, std::string& text, std::chrono::steady_clock::time_point deadline,
               Done done) {
  while (!done(text)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    text.append(buf, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

Capture::Capture(const std::string& netns, const std::string& iface, const std::string& filter,
                 int max_seconds) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return;
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return;
  }
  const std::vector<std::string> argv = {
      "ip",  "netns",    "exec", netns,       Bin("qnet-capture"),        "--iface",
      iface, "--filter", filter, "--seconds", std::to_string(max_seconds)};
  pid_ = ::fork();
  if (pid_ == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  out_ = out[0];
  err_ = err[0];
  if (pid_ < 0) return;
  listened_ =
      ReadUntil(out_, out_text_, std::chrono::steady_clock::now() + std::chrono::seconds(10),
                [](const std::string& t) { return t.find("listening\n") != t.npos; });
}

Capture::Report Capture::Finish(int grace_ms) {
  Report r;
  r.listened = listened_;
  if (pid_ > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(grace_ms));
    ::kill(pid_, SIGINT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto never = [](const std::string&) { return false; };
    ReadUntil(out_, out_text_, deadline, never);
    ReadUntil(err_, err_text_, deadline, never);
    if (std::chrono::steady_clock::now() >= deadline) ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::smatch m;
  if (std::regex_search(out_text_, m, std::regex("captured (\\d+)"))) r.captured = std::stol(m[1]);
  if (std::regex_search(err_text_, m, std::regex("dropped (\\d+) \\(buffer\\) (\\d+)")))
    r.dropped = std::stol(m[1]) + std::stol(m[2]);
  r.log = out_text_ + err_text_;
  return r;
}

Capture::~Capture() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_ >= 0) ::close(out_);
  if (err_ >= 0) ::close(err_);
}

bool HaveRoot() { return ::geteuid() == 0; }

TestInstance::TestInstance(std::string name) : name_(std::move(name)) {
  Qnet({"down", "--all"});  // a crashed earlier run of the same name
}

TestInstance::~TestInstance() {
  Qnet({"down", "--all"});
  // A test's qubes leave no home and no host id range behind.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/var/lib/qnet/" + name_ + "/qubes", ec))
    Qnet({"remove", e.path().filename().string()});
}

CmdResult TestInstance::Qnet(std::vector<std::string> args, int timeout_s,
                             const std::vector<std::string>& extra_env) const {
  args.insert(args.begin(), {Bin(kQnet), "--instance", name_});
  return RunCmd(args, timeout_s, extra_env);
}

CmdResult TestInstance::ShippedQnet(std::vector<std::string> args, int timeout_s,
                                    const std::vector<std::string>& extra_env) const {
  args.insert(args.begin(), {Bin(kShippedQnet), "--instance", name_});
  return RunCmd(args, timeout_s, extra_env);
}

CmdResult TestInstance::Exec(const std::string& qube, std::vector<std::string> argv, bool root,
                             int timeout_s) const {
  std::vector<std::string> args = {"exec"};
  if (root) args.push_back("--root");
  args.push_back(qube);
  args.push_back("--");
  args.insert(args.end(), argv.begin(), argv.end());
  return Qnet(args, timeout_s);
}

CmdResult TestInstance::InNetns(const std::string& ns, std::vector<std::string> argv,
                                int timeout_s) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", netns(ns)});
  return RunCmd(argv, timeout_s);
}

std::vector<std::string> Leftovers(const std::string& instance) {
  std::vector<std::string> out;
  const std::string prefix = instance + "-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/run/netns", ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0)
      out.push_back("namespace " + e.path().filename().string());
  if (fs::exists("/run/qnet/" + instance, ec)) out.push_back("dir /run/qnet/" + instance);
  if (fs::exists("/var/lib/qnet/" + instance + "/state.json", ec))
    out.push_back("state /var/lib/qnet/" + instance);
  std::ifstream mounts("/proc/self/mountinfo");
  for (std::string line; std::getline(mounts, line);)
    if (line.find("/" + prefix) != std::string::npos) out.push_back("mount " + line);
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::ifstream cmd(e.path() / "cmdline");
    std::string c((std::istreambuf_iterator<char>(cmd)), {});
    std::replace(c.begin(), c.end(), '\0', ' ');
    if (c.find("--instance " + instance + " ") != std::string::npos ||
        c.find("/run/qnet/" + instance + "/") != std::string::npos)
      out.push_back("process " + e.path().filename().string() + ": " + c);
  }
  return out;
}

}  // namespace qnet::testing

namespace qnet::testing {
std::vector<int> FindPids(const std::vector<std::string>& words) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmd(e.path() / "cmdline");
    std::string c((std::istreambuf_iterator<char>(cmd)), {});
    std::replace(c.begin(), c.end(), '\0', ' ');
    bool all = !c.empty();
    for (const auto& w : words) all = all && c.find(w) != std::string::npos;
    if (all && std::stoi(name) != ::getpid()) out.push_back(std::stoi(name));
  }
  return out;
}

nlohmann::json LsRow(const TestInstance& inst, const std::string& qube) {
  auto r = inst.Qnet({"ls", "--json"});
  for (const auto& row : nlohmann::json::parse(r.out, nullptr, false))
    if (row.is_object() && row.value("name", "") == qube) return row;
  return nlohmann::json();
}

std::string Ip(const TestInstance& inst, const std::string& qube) {
  const nlohmann::json row = LsRow(inst, qube);
  return row.is_object() && row["ip"].is_string() ? row["ip"].get<std::string>() : "";
}

long RuleCounter(const TestInstance& inst, const std::string& qube, const std::string& chain,
                 const std::string& match) {
  auto r = inst.InNetns(qube, {"nft", "list", "chain", "inet", "qnet", chain});
  const size_t line = r.out.find(match);
  if (line == std::string::npos) return -1;
  const size_t at = r.out.find("counter packets ", line);
  if (at == std::string::npos || at > r.out.find('\n', line)) return -1;
  return std::stol(r.out.substr(at + 16));
}
}  // namespace qnet::testing
