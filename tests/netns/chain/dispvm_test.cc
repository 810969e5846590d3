// Disposable qubes (docs/isolation.md "Disposables"): `qnet dispvm -- CMD`
// runs CMD in a new qube attached to the running chain, passes its stdio and
// exit status through, and destroys it with everything it had (namespace,
// processes, files, host id range) when CMD exits or the client dies.
// `dispvm = true` in the chain file makes a named disposable whose storage
// goes at `down`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "harness.h"

namespace qnet::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The qube's user's home, inside the qube.
const std::string kHome = "/home/user";

struct DispvmTraits {
  static constexpr const char* kPrefix = "qt-disp";
  static constexpr const char* kFile = "tests/netns/chain/data/dispvm.toml";
};

// What a disposable tells about itself from inside: its name (the hostname)
// and its host id range (the uid map's second field).
struct Identity {
  std::string name;
  uint64_t id_base = 0;
};
constexpr const char* kWhoAmI = "hostname; awk '{print $2}' /proc/self/uid_map";

Identity ParseIdentity(const std::string& out) {
  std::istringstream in(out);
  Identity id;
  std::string base;
  std::getline(in, id.name);
  std::getline(in, base);
  if (!base.empty()) id.id_base = std::stoull(base);
  return id;
}

// Host processes whose real or effective uid is in [base, base + 65536).
std::vector<std::string> ProcessesInRange(uint64_t base) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::ifstream status(e.path() / "status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("Uid:", 0) != 0) continue;
      std::istringstream f(line.substr(4));
      uint64_t real = 0, eff = 0;
      f >> real >> eff;
      if ((real >= base && real < base + 65536) || (eff >= base && eff < base + 65536))
        out.push_back(e.path().filename().string());
    }
  }
  return out;
}

// A `qnet dispvm` client run as a child whose stdout the test reads line by
// line while it runs (to learn the disposable's name), then kills.
class Client {
 public:
  explicit Client(std::vector<std::string> args) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      ::dup2(out[1], 1);
      ::dup2(devnull, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_ = out[0];
  }
  ~Client() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }
  // The next `n` lines of its stdout, waiting at most timeout.
  std::string Lines(int n, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::count(buf_.begin(), buf_.end(), '\n') < n) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char b[256];
      ssize_t got = ::read(out_, b, sizeof b);
      if (got <= 0) break;
      buf_.append(b, static_cast<size_t>(got));
    }
    return buf_;
  }
  // Kills the client with `sig`; returns once it is gone.
  void Kill(int sig) {
    ::kill(pid_, sig);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
};

class Dispvm : public SharedChainTest<DispvmTraits> {
 protected:
  static CmdResult Disp(std::vector<std::string> opts, std::vector<std::string> cmd,
                        int timeout_s = 90) {
    std::vector<std::string> args = {"dispvm"};
    args.insert(args.end(), opts.begin(), opts.end());
    args.push_back("--");
    args.insert(args.end(), cmd.begin(), cmd.end());
    return inst_->Qnet(args, timeout_s);
  }
  static std::string Storage(const std::string& qube) {
    return fmt::format("/var/lib/qnet/{}/qubes/{}", inst_->name(), qube);
  }
  // Everything a disposable could leave behind, named; empty when nothing.
  static std::vector<std::string> Remains(const Identity& id) {
    std::vector<std::string> out;
    const std::string owner = inst_->name() + "/" + id.name + "\n";
    if (fs::exists("/run/netns/" + inst_->netns(id.name))) out.push_back("its namespace");
    if (!FindPids({"--qube " + id.name + " ", "--instance " + inst_->name()}).empty())
      out.push_back("its init or agent");
    if (fs::exists(Storage(id.name))) out.push_back("its state directory " + Storage(id.name));
    if (fs::exists(fmt::format("/run/qnet/{}/agents/{}.sock", inst_->name(), id.name)))
      out.push_back("its agent socket");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/var/lib/qnet/.id-slots", ec)) {
      std::ifstream f(e.path());
      std::string text((std::istreambuf_iterator<char>(f)), {});
      if (text == owner) out.push_back("its id slot " + e.path().string());
    }
    for (const auto& p : ProcessesInRange(id.id_base))
      out.push_back("process " + p + " with one of its host ids");
    if (!LsRow(*inst_, id.name).is_null()) out.push_back("its row in qnet ls");
    return out;
  }
  // Waits until nothing of the disposable remains (at most ~10 s).
  static std::vector<std::string> RemainsAfterWaiting(const Identity& id) {
    std::vector<std::string> left;
    for (int i = 0; i < 100; ++i) {
      left = Remains(id);
      if (left.empty()) break;
      std::this_thread::sleep_for(100ms);
    }
    return left;
  }
};

TEST_F(Dispvm, CurlThroughTheBasicChainReachesTheLabWebServer) {
  auto r = Disp({}, {"curl", "-sS", "--max-time", "10", "http://web.lab/"});
  EXPECT_EQ(r.code, 0) << r.err;
  // sys-net masquerades: the lab sees its uplink address.
  EXPECT_EQ(r.out, "198.51.100.2\n");
  auto named = Disp({"--netvm", "sys-firewall"},
                    {"curl", "-sS", "--max-time", "10", "http://203.0.113.10/"});
  EXPECT_EQ(named.code, 0) << named.err;
  EXPECT_EQ(named.out, "198.51.100.2\n");
}

TEST_F(Dispvm, PassesStdioAndExitStatusAndHasADisposableAddress) {
  auto r =
      Disp({}, {"sh", "-c", "echo out; echo err >&2; hostname; ip -4 -o addr show eth0; exit 7"});
  EXPECT_EQ(r.code, 7);
  EXPECT_NE(r.err.find("err"), std::string::npos) << r.err;
  std::istringstream in(r.out);
  std::string first, name, addr;
  std::getline(in, first);
  std::getline(in, name);
  std::getline(in, addr);
  EXPECT_EQ(first, "out");
  EXPECT_TRUE(name.rfind("disp", 0) == 0) << name;
  EXPECT_NE(addr.find(" 10.138."), std::string::npos) << addr;
}

TEST_F(Dispvm, WithoutNetvmHasNoNetwork) {
  auto r = Disp({"--netvm", ""}, {"sh", "-c",
                                  "ls /sys/class/net; curl -sS --max-time 3 "
                                  "http://203.0.113.10/ || echo unreachable"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "lo\nunreachable\n");
}

TEST_F(Dispvm, ItsFirewallHolds) {
  const std::string probe =
      "curl -sS --max-time 5 http://203.0.113.10/ || echo http-blocked;"
      "python3 -c \"import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
      "s.settimeout(2)\ns.connect(('203.0.113.10',7))\ns.send(b'ping')\n"
      "try: print(s.recv(64).decode())\nexcept OSError: print('udp-blocked')\"";
  // Positive control: the default list lets both through.
  auto open = Disp({}, {"sh", "-c", probe});
  EXPECT_EQ(open.out, "198.51.100.2\nping\n") << open.err;
  auto ruled = Disp(
      {"--firewall", "accept dsthost=203.0.113.10 proto=tcp dstports=80", "--firewall", "drop"},
      {"sh", "-c", probe});
  EXPECT_EQ(ruled.out, "198.51.100.2\nudp-blocked\n") << ruled.err;
  auto closed = Disp({"--firewall", "drop"}, {"sh", "-c", probe});
  EXPECT_EQ(closed.out, "http-blocked\nudp-blocked\n") << closed.err;
  // A bad rule is refused before anything exists.
  auto bad = Disp({"--firewall", "accept dstports=99999"}, {"true"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("--firewall"), std::string::npos) << bad.err;
}

TEST_F(Dispvm, TwoDisposablesCannotSeeEachOthersFiles) {
  const std::string m = fmt::format("qnet-disp-{}", ::getpid());
  auto writer = std::async(std::launch::async, [&] {
    return Disp({}, {"sh", "-c",
                     fmt::format("for d in /tmp /var/tmp /dev/shm /home/user /run; do echo s > "
                                 "$d/{0}; done; sleep 6; cat /tmp/{0} {1}/{0}",
                                 m, kHome)});
  });
  std::this_thread::sleep_for(3s);
  auto reader = Disp({}, {"sh", "-c",
                          fmt::format("for d in /tmp /var/tmp /dev/shm /home/user /run; do "
                                      "cat $d/{0} 2>/dev/null && echo found $d; done; echo done",
                                      m)});
  auto w = writer.get();
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_EQ(w.out, "s\ns\n") << "positive control: the writer reads its own files";
  EXPECT_EQ(reader.code, 0) << reader.err;
  EXPECT_EQ(reader.out, "done\n");
  // Nor does the chain's own app qube see them.
  EXPECT_NE(inst_->Exec("work", {"cat", "/tmp/" + m}).code, 0);
}

TEST_F(Dispvm, AppearsInLsAndTheGraphWhileItLives) {
  auto run = std::async(std::launch::async, [&] { return Disp({}, {"sh", "-c", "sleep 4"}); });
  nlohmann::json row;
  for (int i = 0; i < 100 && row.is_null(); ++i) {
    auto ls = inst_->Qnet({"ls", "--json"});
    auto rows = nlohmann::json::parse(ls.out, nullptr, false);
    if (rows.is_array())
      for (const auto& r : rows)
        if (r.value("class", "") == "DispVM" && r.value("name", "").rfind("disp", 0) == 0) row = r;
    if (row.is_null()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(row.is_null()) << "no disposable in qnet ls";
  EXPECT_EQ(row.value("state", ""), "running");
  EXPECT_EQ(row.value("netvm", ""), "sys-firewall");
  EXPECT_EQ(row.value("ip", "").rfind("10.138.", 0), 0u) << row.dump();
  auto graph = inst_->Qnet({"graph"});
  EXPECT_NE(graph.out.find("\"" + row.value("name", "") + "\" -> \"sys-firewall\""),
            std::string::npos)
      << graph.out;
  auto table = inst_->Qnet({"ls"});
  EXPECT_NE(table.out.find("DispVM"), std::string::npos) << table.out;
  EXPECT_EQ(run.get().code, 0);
  Identity gone{.name = row.value("name", "")};
  EXPECT_TRUE(LsRow(*inst_, gone.name).is_null()) << "still listed after its command exited";
}

TEST_F(Dispvm, AfterExitNothingRemains) {
  auto r = Disp({}, {"sh", "-c", std::string(kWhoAmI) + "; echo x > " + kHome + "/f; sleep 1 &"});
  ASSERT_EQ(r.code, 0) << r.err;
  Identity id = ParseIdentity(r.out);
  ASSERT_EQ(id.name.rfind("disp", 0), 0u) << r.out;
  ASSERT_GE(id.id_base, 1u << 30) << r.out;
  auto left = Remains(id);
  EXPECT_TRUE(left.empty()) << fmt::format("{}", fmt::join(left, "; "));
}

TEST_F(Dispvm, ClientKilledMidCommandLeavesNothing) {
  for (int sig : {SIGINT, SIGKILL}) {
    SCOPED_TRACE(sig);
    Client c({Bin(kQnet), "--instance", inst_->name(), "dispvm", "--", "sh", "-c",
              std::string(kWhoAmI) + "; sleep 60"});
    Identity id = ParseIdentity(c.Lines(2, 60s));
    ASSERT_EQ(id.name.rfind("disp", 0), 0u) << "the disposable never said who it is";
    // Positive control: it is alive, with processes in its id range.
    EXPECT_TRUE(fs::exists("/run/netns/" + inst_->netns(id.name)));
    EXPECT_FALSE(ProcessesInRange(id.id_base).empty());
    c.Kill(sig);
    auto left = RemainsAfterWaiting(id);
    EXPECT_TRUE(left.empty()) << fmt::format("{}", fmt::join(left, "; "));
  }
}

TEST_F(Dispvm, BadRequestsAreRefusedAndLeaveNothing) {
  auto netvm = Disp({"--netvm", "sys-nope"}, {"true"});
  EXPECT_NE(netvm.code, 0);
  EXPECT_NE(netvm.err.find("netvm 'sys-nope' is not in the chain"), std::string::npos) << netvm.err;
  auto app = Disp({"--netvm", "work"}, {"true"});
  EXPECT_NE(app.err.find("provides no network"), std::string::npos) << app.err;
  auto label = Disp({"--label", "pink"}, {"true"});
  EXPECT_NE(label.err.find("unknown label 'pink'"), std::string::npos) << label.err;
  auto tmpl = Disp({"--template", "../etc"}, {"true"});
  EXPECT_NE(tmpl.err.find("invalid template name"), std::string::npos) << tmpl.err;
  auto missing = Disp({}, {"/no/such/command"});
  EXPECT_NE(missing.code, 0);
  // None of them left a disposable (scratch is the chain's named one).
  auto ls = nlohmann::json::parse(inst_->Qnet({"ls", "--json"}).out, nullptr, false);
  ASSERT_TRUE(ls.is_array());
  for (const auto& r : ls)
    if (r.value("name", "") != "scratch") {
      EXPECT_NE(r.value("class", ""), "DispVM") << r.dump();
    }
}

// A root tree the test builds itself (dash, cat, ls, sleep and the libraries they
// load; /etc/marker; a world-writable /etc/scratch), imported as template
// `name`: the tests never download (mmdebstrap would need a mirror).
class ScopedTemplate {
 public:
  explicit ScopedTemplate(const TestInstance& inst)
      : inst_(inst), name_(fmt::format("qt-tpl-{}", ::getpid() % 100000)) {
    char dir[] = "/var/tmp/qnet-tpl-src-XXXXXX";
    if (!::mkdtemp(dir)) return;
    tree_ = dir;
    for (const char* d : {"usr/bin", "usr/lib/x86_64-linux-gnu", "usr/lib64", "etc"})
      fs::create_directories(tree_ / d);
    for (const char* l : {"bin", "lib", "lib64"})
      fs::create_directory_symlink(fmt::format("usr/{}", l), tree_ / l);
    auto libs =
        RunCmd({"sh", "-c",
                "ldd /usr/bin/dash /usr/bin/cat /usr/bin/ls /usr/bin/sleep | grep -o '/[^ :]*' | "
                "grep -v '^/usr/bin/' | sort -u"});
    std::istringstream in(libs.out);
    for (std::string lib; std::getline(in, lib);) {
      const bool in_usr = lib.rfind("/usr/", 0) == 0;
      fs::path at = in_usr ? tree_ / lib.substr(1) : tree_ / "usr" / lib.substr(1);
      fs::create_directories(at.parent_path());
      fs::copy_file(fs::canonical(lib), at, fs::copy_options::overwrite_existing);
    }
    fs::copy_file("/usr/bin/dash", tree_ / "usr/bin/sh");
    for (const char* b : {"cat", "ls", "sleep"})
      fs::copy_file(fmt::format("/usr/bin/{}", b), tree_ / "usr/bin" / b);
    std::ofstream(tree_ / "etc/marker") << "built\n";
    std::ofstream(tree_ / "etc/scratch") << "built\n";
    fs::permissions(tree_ / "etc/scratch", fs::perms(0666));
  }
  ~ScopedTemplate() {
    inst_.Qnet({"template", "remove", name_});
    std::error_code ec;
    fs::remove_all(path(), ec);
    fs::remove(path().parent_path(), ec);  // the templates directory, if it is empty now
    if (!tree_.empty()) fs::remove_all(tree_, ec);
  }
  const std::string& name() const { return name_; }
  const fs::path& tree() const { return tree_; }
  fs::path path() const { return fs::path("/var/lib/qnet/templates") / name_; }
  std::string Read(const std::string& rel) const {
    std::ifstream f(path() / rel);
    return std::string((std::istreambuf_iterator<char>(f)), {});
  }

 private:
  const TestInstance& inst_;
  std::string name_;
  fs::path tree_;
};

TEST_F(Dispvm, TemplateRun_ChangesPersistIntoQubesStartedFromIt_TheirOwnChangesDoNot) {
  ScopedTemplate t(*inst_);
  ASSERT_FALSE(t.tree().empty());
  auto create = inst_->Qnet({"template", "create", t.name(), "--from-dir", t.tree().string()});
  ASSERT_EQ(create.code, 0) << create.err;
  EXPECT_NE(inst_->Qnet({"template", "ls"}).out.find(t.name()), std::string::npos);
  // A template qube: root, its / is the tree itself, no network.
  auto run = inst_->Qnet({"template", "run", t.name(), "--", "sh", "-c",
                          "echo changed > /etc/marker && cat /etc/marker && ls /sys/class/net"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "changed\nlo\n");
  EXPECT_EQ(t.Read("etc/marker"), "changed\n") << "the template run's change did not persist";
  // A qube started from it sees the change ...
  auto seen = Disp({"--template", t.name()}, {"cat", "/etc/marker"});
  EXPECT_EQ(seen.out, "changed\n") << seen.err;
  // ... and its own changes to / stay in its overlay (positive control: it
  // does change its copy).
  auto own =
      Disp({"--template", t.name()}, {"sh", "-c", "echo mine > /etc/scratch && cat /etc/scratch"});
  EXPECT_EQ(own.out, "mine\n") << own.err;
  EXPECT_EQ(t.Read("etc/scratch"), "built\n") << "a qube wrote into its template";
  // The tree itself is not in its view.
  auto reach = Disp({"--template", t.name()},
                    {"sh", "-c", "ls /var/lib/qnet /var/tmp/qnet-tpl-* || echo unreachable"});
  EXPECT_EQ(reach.out, "unreachable\n") << reach.err;
}

TEST_F(Dispvm, TemplateRemove_IsRefusedWhileAQubeUsesIt) {
  ScopedTemplate t(*inst_);
  ASSERT_FALSE(t.tree().empty());
  ASSERT_EQ(inst_->Qnet({"template", "create", t.name(), "--from-dir", t.tree().string()}).code, 0);
  auto user = std::async(std::launch::async, [&] {
    return Disp({"--template", t.name()}, {"sh", "-c", "sleep 4"});
  });
  bool running = false;
  for (int i = 0; i < 100 && !running; ++i) {
    running = inst_->Qnet({"template", "ls"}).out.find("in use by") != std::string::npos;
    if (!running) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(running) << "the qube based on the template never started";
  auto remove = inst_->Qnet({"template", "remove", t.name()});
  EXPECT_NE(remove.code, 0);
  EXPECT_NE(remove.err.find("in use by a running qube"), std::string::npos) << remove.err;
  auto change = inst_->Qnet({"template", "run", t.name(), "--", "true"});
  EXPECT_NE(change.code, 0);
  EXPECT_NE(change.err.find("in use"), std::string::npos) << change.err;
  EXPECT_TRUE(fs::exists(t.path()));
  EXPECT_EQ(user.get().code, 0);
  // Positive control: once nothing uses it, it goes.
  auto again = inst_->Qnet({"template", "remove", t.name()});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_FALSE(fs::exists(t.path()));
  EXPECT_EQ(inst_->Qnet({"template", "ls"}).out.find(t.name()), std::string::npos);
}

TEST_F(Dispvm, TemplateBadNamesAndMissingTemplatesAreRefusedWithAMessage) {
  for (const char* bad : {"9lives", "../etc", "a/b", "dom0"}) {
    auto r = inst_->Qnet({"template", "create", bad, "--from-dir", "/nonexistent"});
    EXPECT_NE(r.code, 0) << bad;
    EXPECT_NE(r.err.find("invalid template name"), std::string::npos) << bad << ": " << r.err;
  }
  EXPECT_FALSE(fs::exists("/var/lib/qnet/templates/9lives"));
  auto missing = inst_->Qnet({"template", "run", "qt-no-such-template", "--", "true"});
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("no template qt-no-such-template"), std::string::npos) << missing.err;
  auto disp = Disp({"--template", "qt-no-such-template"}, {"true"});
  EXPECT_NE(disp.code, 0);
  EXPECT_NE(disp.err.find("qt-no-such-template"), std::string::npos) << disp.err;
  auto dir = inst_->Qnet({"template", "create", "qt-tpl-nodir", "--from-dir", "/nonexistent"});
  EXPECT_NE(dir.code, 0);
  EXPECT_NE(dir.err.find("--from-dir /nonexistent: not a directory"), std::string::npos) << dir.err;
  EXPECT_FALSE(fs::exists("/var/lib/qnet/templates/qt-tpl-nodir"));
}

// Last: it takes a qube of the chain down.
TEST_F(Dispvm, NamedDisposableHasADisposableAddressAndLosesItsStorageAtDown) {
  auto row = LsRow(*inst_, "scratch");
  ASSERT_FALSE(row.is_null());
  EXPECT_EQ(row.value("class", ""), "DispVM");
  EXPECT_EQ(row.value("ip", "").rfind("10.138.0.", 0), 0u) << row.dump();
  auto curl = inst_->Exec("scratch", {"curl", "-sS", "--max-time", "10", "http://203.0.113.10/"});
  EXPECT_EQ(curl.out, "198.51.100.2\n") << curl.err;
  ASSERT_EQ(inst_->Exec("scratch", {"sh", "-c", "echo x > " + kHome + "/kept"}).code, 0);
  ASSERT_EQ(inst_->Exec("work", {"sh", "-c", "echo x > " + kHome + "/kept"}).code, 0);
  ASSERT_TRUE(fs::exists(Storage("scratch") + "/home/kept"));
  auto down = inst_->Qnet({"down", "scratch"});
  ASSERT_EQ(down.code, 0) << down.err;
  EXPECT_FALSE(fs::exists(Storage("scratch"))) << "a named disposable's storage outlived down";
  EXPECT_TRUE(fs::exists(Storage("work") + "/home/kept"))
      << "positive control: an app qube's home is kept";
}

}  // namespace
}  // namespace qnet::testing
