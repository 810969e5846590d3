// Qubes contain their root (docs/isolation.md, security contract 10): every escape an attacker with
// root in a qube would try fails, from an app qube (`qnet exec --root work`) and from a netvm (root
// in sys-firewall), each next to a positive control showing the same action works where it should.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.h"

namespace qnet::testing {
namespace {

namespace fs = std::filesystem;

// The qube's user's home, inside the qube.
const std::string kHome = "/home/user";

// Where a qube's persistent storage lives on the host.
std::string QubeStorage(const std::string& instance, const std::string& qube) {
  return fmt::format("/var/lib/qnet/{}/qubes/{}", instance, qube);
}

struct ContainmentTraits {
  static constexpr const char* kPrefix = "qt-cont";
  static constexpr const char* kFile = "tests/netns/chain/data/two-apps.toml";
};

class Containment : public SharedChainTest<ContainmentTraits> {
 protected:
  // The qubes an attacker holds root in: an app qube and a netvm.
  static std::vector<std::string> Attackers() { return {"work", "sys-firewall"}; }
  static CmdResult Root(const std::string& qube, const std::string& script) {
    return inst_->Exec(qube, {"sh", "-c", script}, /*root=*/true);
  }
  static CmdResult User(const std::string& qube, const std::string& script) {
    return inst_->Exec(qube, {"sh", "-c", script});
  }
  static std::string Marker(std::string_view what) {
    return fmt::format("qnet-containment-{}-{}", what, ::getpid());
  }
};

TEST_F(Containment, RootInQube_CannotUnmountRunOrTmp_EvenAfterUnshare) {
  for (const auto& q : Attackers()) {
    SCOPED_TRACE(q);
    EXPECT_NE(Root(q, "umount -l /run").code, 0);
    EXPECT_NE(Root(q, "umount -l /tmp").code, 0);
    EXPECT_NE(Root(q, "unshare -m sh -c 'umount -l /run'").code, 0);
    EXPECT_NE(Root(q, "unshare -m sh -c 'umount -l /tmp'").code, 0);
    EXPECT_NE(Root(q, "unshare -m sh -c 'umount -l /run; ls /run/qnet'").code, 0);
    // Positive control: in its own copy root may mount on top (and sees it),
    // it just cannot uncover what lies beneath.
    auto mount = Root(q, "unshare -m sh -c 'mount -t tmpfs t /tmp && touch /tmp/x && ls /tmp'");
    EXPECT_EQ(mount.code, 0) << mount.err;
    EXPECT_EQ(mount.out, "x\n");
  }
}

TEST_F(Containment, RootInQube_CannotReachQnetdSocket) {
  const std::string sock = "/run/qnet/" + inst_->name() + "/qnetd.sock";
  ASSERT_EQ(::access(sock.c_str(), F_OK), 0) << "positive control: the socket exists on the host";
  for (const auto& q : Attackers()) {
    SCOPED_TRACE(q);
    EXPECT_NE(Root(q, "ls /run/qnet").code, 0);
    EXPECT_NE(Root(q, "test -e " + sock).code, 0);
    EXPECT_NE(Root(q, "ls /run/netns").code, 0);
    EXPECT_NE(Root(q, "ls /var/lib/qnet").code, 0);
  }
}

TEST_F(Containment, RootInQube_CannotEnterOtherNamespaces) {
  const std::string other = "/run/netns/" + inst_->netns("personal");
  // Positive control: the host enters the same namespaces with the same tool.
  EXPECT_EQ(RunCmd({"nsenter", "--net=" + other, "true"}).code, 0);
  for (const auto& q : Attackers()) {
    SCOPED_TRACE(q);
    // pid 1 is the qube's init: host root, holding the qube's network
    // namespace and the agent's view of the host's files.
    EXPECT_NE(Root(q, "nsenter --net=/proc/1/ns/net true").code, 0);
    EXPECT_NE(Root(q, "nsenter --mount=/proc/1/ns/mnt true").code, 0);
    EXPECT_NE(Root(q, "nsenter -t 1 -a true").code, 0);
    EXPECT_NE(Root(q, "nsenter --net=" + other + " true").code, 0);
    EXPECT_NE(Root(q, "ls /proc/1/root/").code, 0);
    // Positive control: root may make namespaces of its own below the qube's.
    EXPECT_EQ(Root(q, "unshare -n true").code, 0);
  }
}

TEST_F(Containment, RootInQube_CannotChangeRulesSysctlsAddressesOrRoutes) {
  for (const auto& q : Attackers()) {
    SCOPED_TRACE(q);
    auto before = inst_->InNetns(q, {"nft", "list", "table", "inet", "qnet"});
    ASSERT_EQ(before.code, 0) << before.err;
    EXPECT_NE(Root(q, "nft flush ruleset").code, 0);
    EXPECT_NE(Root(q, "nft add table inet qnet-escape").code, 0);
    EXPECT_NE(Root(q, "ip addr add 10.137.0.99/32 dev lo").code, 0);
    EXPECT_NE(Root(q, "ip route add 203.0.113.0/24 dev lo").code, 0);
    EXPECT_NE(Root(q, "ip link set lo down").code, 0);
    EXPECT_NE(Root(q, "echo 1 > /proc/sys/net/ipv4/conf/all/forwarding").code, 0);
    EXPECT_NE(Root(q, "echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter").code, 0);
    auto after = inst_->InNetns(q, {"nft", "list", "table", "inet", "qnet"});
    EXPECT_EQ(before.out, after.out) << "the qube's table changed";
    // Positive controls: root reads them, and the host (qnet's side) changes them.
    EXPECT_EQ(Root(q, "cat /proc/sys/net/ipv4/conf/all/forwarding && ip route").code, 0);
    EXPECT_EQ(inst_->InNetns(q, {"ip", "addr", "add", "10.137.0.99/32", "dev", "lo"}).code, 0);
    EXPECT_EQ(inst_->InNetns(q, {"ip", "addr", "del", "10.137.0.99/32", "dev", "lo"}).code, 0);
  }
}

TEST_F(Containment, RootInQube_WritesOnlyItsOwnOverlay_NotHostFiles) {
  for (const auto& q : Attackers()) {
    SCOPED_TRACE(q);
    const std::string m = Marker("write");
    auto w = Root(q, fmt::format("echo x > /etc/{0} && echo x > /usr/bin/{0} && echo x > /{0} "
                                 "&& cat /etc/{0} /usr/bin/{0}",
                                 m));
    EXPECT_EQ(w.code, 0) << w.err;  // positive control: its own / is writable
    EXPECT_EQ(w.out, "x\nx\n");
    for (const std::string dir : {"/etc/", "/usr/bin/", "/"}) {
      EXPECT_FALSE(fs::exists(dir + m)) << dir + m << " reached the host";
      std::error_code ec;
      fs::remove(dir + m, ec);
    }
    // Nothing of the host is writable through any path it sees.
    EXPECT_NE(Root(q, "echo x > /run/qnet-qube/resolv.conf").code, 0);
    EXPECT_NE(Root(q, "touch /sys/kernel/qnet-probe").code, 0);
    EXPECT_NE(Root(q, "echo c > /proc/sysrq-trigger").code, 0);
  }
}

TEST_F(Containment, RootInQube_CannotReadHostFilesOutsideTheTemplateView) {
  const std::string planted = "/var/tmp/" + Marker("read");
  {
    std::ofstream f(planted);
    f << "host secret\n";
  }
  ::chmod(planted.c_str(), 0644);
  for (const auto& q : Attackers()) {
    SCOPED_TRACE(q);
    EXPECT_NE(Root(q, "cat " + planted).code, 0);
    EXPECT_NE(Root(q, "cat /etc/shadow").code, 0);
    EXPECT_NE(Root(q, "ls /root").code, 0);
    for (const char* host_dir : {"/srv", "/mnt", "/media", "/var/lib", "/var/log", "/boot"})
      EXPECT_NE(Root(q, fmt::format("ls {}", host_dir)).code, 0) << host_dir;
    // Positive control: the template's files are there, secrets removed.
    auto os = Root(q, "cat /etc/os-release >/dev/null && grep -c . /etc/passwd");
    EXPECT_EQ(os.code, 0) << os.err;
    EXPECT_EQ(os.out, "3\n") << "qnet's own passwd: root, user, nobody";
  }
  EXPECT_EQ(::unlink(planted.c_str()), 0);
}

TEST_F(Containment, RootInQube_CannotLoadModulesOrMakeDevices) {
  // finit_module(2) on an empty image: EPERM (1) without CAP_SYS_MODULE on
  // the host; getpid(2) through the same path is the control.
  const std::string py =
      "import ctypes,os\n"
      "l=ctypes.CDLL(None,use_errno=True)\n"
      "fd=os.open('/dev/null',os.O_RDONLY)\n"
      "print(l.syscall(39)>0, l.syscall(313,fd,b'',0), ctypes.get_errno())\n";
  // Positive control: host root passes the permission check (and fails on
  // the empty image, or with ENOSYS on a kernel built without modules).
  auto host = RunCmd({"python3", "-c", py});
  ASSERT_EQ(host.code, 0) << host.err;
  const bool no_modules = host.out == "True -1 38\n";
  EXPECT_NE(host.out, "True -1 1\n");
  for (const auto& q : Attackers()) {
    SCOPED_TRACE(q);
    auto mod = inst_->Exec(q, {"python3", "-c", py}, /*root=*/true);
    // Without module support the kernel answers ENOSYS before any check:
    // then only the other escapes of this test prove anything.
    EXPECT_EQ(mod.out, no_modules ? "True -1 38\n" : "True -1 1\n") << mod.err;
    EXPECT_NE(Root(q, "mknod /tmp/qnet-null c 1 3").code, 0);
    EXPECT_NE(Root(q, "unshare -m sh -c 'mount -t tmpfs -o dev t /tmp && mknod /tmp/n c 1 3'").code,
              0);
    // Positive control: what needs no privilege over the host works.
    EXPECT_EQ(Root(q, "mkfifo /tmp/qnet-fifo && rm /tmp/qnet-fifo").code, 0);
  }
}

TEST_F(Containment, RootInQube_CannotSignalOrTraceTheAgent) {
  const std::string py =
      "import ctypes,os,sys\n"
      "l=ctypes.CDLL(None,use_errno=True)\n"
      "r=l.ptrace(16,int(sys.argv[1]),0,0)\n"  // PTRACE_ATTACH
      "print(r, ctypes.get_errno())\n";
  for (const auto& q : Attackers()) {
    SCOPED_TRACE(q);
    auto agents = Root(q, "pgrep -f ' agent --instance '");
    ASSERT_EQ(agents.code, 0) << "the agent is visible in the qube's pid namespace";
    std::string agent = agents.out.substr(0, agents.out.find('\n'));
    EXPECT_NE(Root(q, "kill -0 1").code, 0);
    EXPECT_NE(Root(q, "kill -0 " + agent).code, 0);
    auto trace = inst_->Exec(q, {"python3", "-c", py, agent}, /*root=*/true);
    EXPECT_EQ(trace.out, "-1 1\n") << trace.err;
    // Positive control: root signals its own processes.
    EXPECT_EQ(Root(q, "sleep 5 & kill $!").code, 0);
  }
  // The agent is alive and serving.
  EXPECT_EQ(inst_->Exec("work", {"true"}).code, 0);
}

TEST_F(Containment, Files_WrittenByOneQube_AreInvisibleToAnotherAndToTheHost) {
  const std::string m = Marker("cross");
  const std::vector<std::string> dirs = {"/tmp", "/var/tmp",   "/dev/shm",
                                         "/run", "/home/user", "/etc"};
  std::string write, read;
  for (const auto& d : dirs) {
    write += fmt::format("echo {0} > {1}/{0} && ", m, d);
    read += fmt::format("cat {}/{}; ", d, m);
  }
  auto w = Root("work", write + "chown 1000 " + kHome + "/" + m);
  ASSERT_EQ(w.code, 0) << w.err;
  // Positive control: work reads back all of it.
  auto own = Root("work", read);
  EXPECT_EQ(own.code, 0) << own.err;
  EXPECT_EQ(std::count(own.out.begin(), own.out.end(), '\n'), 6) << own.out;
  auto other = Root("personal", read);
  EXPECT_EQ(other.out, "") << "personal reads work's files";
  auto user = User("personal", read);
  EXPECT_EQ(user.out, "");
  for (const auto& d : dirs) {
    if (d == "/home/user") continue;
    EXPECT_FALSE(fs::exists(d + "/" + m)) << d << " is shared with the host";
  }
  // On the host, work's home is its own storage (and only there).
  const std::string home = QubeStorage(inst_->name(), "work") + "/home/" + m;
  EXPECT_TRUE(fs::exists(home)) << home;
  EXPECT_EQ(Root("work", "rm " + kHome + "/" + m).code, 0);
}

TEST_F(Containment, Ids_EachQubeMapsToAHostRangeOfItsOwn) {
  auto a = User("work", "cat /proc/self/uid_map");
  auto b = User("personal", "cat /proc/self/uid_map");
  ASSERT_EQ(a.code, 0);
  ASSERT_EQ(b.code, 0);
  unsigned long inside = 1, base_a = 0, base_b = 0, count = 0;
  ASSERT_EQ(std::sscanf(a.out.c_str(), "%lu %lu %lu", &inside, &base_a, &count), 3) << a.out;
  EXPECT_EQ(inside, 0u);
  EXPECT_EQ(count, 65536u);
  ASSERT_EQ(std::sscanf(b.out.c_str(), "%lu %lu %lu", &inside, &base_b, &count), 3) << b.out;
  EXPECT_TRUE(base_a + 65536 <= base_b || base_b + 65536 <= base_a) << a.out << b.out;
  EXPECT_GE(base_a, 65536u) << "root in a qube must not be a host system id";
  // The user and root of the qube are those ids on the host.
  auto id = User("work", "id -u; id -g");
  EXPECT_EQ(id.out, "1000\n1000\n");
  struct stat st {};
  ASSERT_EQ(::stat((QubeStorage(inst_->name(), "work") + "/home").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, base_a + 1000);
}

TEST_F(Containment, CommandLines_ShowNothingOfTheHostsLayout) {
  for (const auto& q : Attackers()) {
    SCOPED_TRACE(q);
    auto map = User(q, "cat /proc/self/uid_map");
    unsigned long inside = 1, base = 0, count = 0;
    ASSERT_EQ(std::sscanf(map.out.c_str(), "%lu %lu %lu", &inside, &base, &count), 3) << map.out;
    const std::string home = QubeStorage(inst_->name(), q) + "/home";
    for (bool root : {false, true}) {
      SCOPED_TRACE(root ? "root" : "user");
      // Every command line in the qube's pid namespace: the init's (PID 1),
      // the agent's, and the reader's own.
      auto r = inst_->Exec(
          q, {"sh", "-c", "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <$f; echo; done"}, root);
      ASSERT_EQ(r.code, 0) << r.err;
      auto init = inst_->Exec(q, {"sh", "-c", "tr '\\0' ' ' </proc/1/cmdline"}, root);
      // Positive control: the init's command line is readable, and names it.
      EXPECT_NE(init.out.find(" init "), std::string::npos) << init.out;
      EXPECT_NE(r.out.find(" agent "), std::string::npos) << r.out;
      for (const std::string& secret :
           {home, std::string("/var/lib/qnet"), std::string("--home"), std::string("--etc"),
            std::string("--id-base"), std::string("--template"), std::to_string(base)}) {
        EXPECT_EQ(r.out.find(secret), std::string::npos) << secret << " in:\n" << r.out;
      }
    }
  }
}

// A chain of its own: these tests bring qubes down and up.
class ContainmentStorage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveRoot()) GTEST_SKIP() << "needs root (network namespaces, nftables)";
    inst_ = std::make_unique<TestInstance>(fmt::format("qt-stor-{}", ::getpid() % 100000));
  }
  CmdResult Up() { return inst_->Qnet({"up", SourceDir() + "/configs/basic.toml"}); }
  std::unique_ptr<TestInstance> inst_;
};

TEST_F(ContainmentStorage, HomeSurvivesDownUp_RootChangesDoNot_RemoveDeletesHome) {
  ASSERT_EQ(Up().code, 0);
  auto w = inst_->Exec("work", {"sh", "-c", "echo kept > " + kHome + "/note"});
  ASSERT_EQ(w.code, 0) << w.err;
  ASSERT_EQ(inst_->Exec("work", {"sh", "-c", "echo gone > /etc/note"}, true).code, 0);
  auto busy = inst_->Qnet({"remove", "work"});
  EXPECT_NE(busy.code, 0) << "remove of a running qube must be refused";
  EXPECT_NE(busy.err.find("running"), std::string::npos) << busy.err;
  ASSERT_EQ(inst_->Qnet({"down", "--all"}).code, 0);
  ASSERT_EQ(Up().code, 0);
  EXPECT_EQ(inst_->Exec("work", {"cat", kHome + "/note"}).out, "kept\n");
  EXPECT_NE(inst_->Exec("work", {"cat", "/etc/note"}).code, 0) << "root's change survived";
  ASSERT_EQ(inst_->Qnet({"down", "--all"}).code, 0);
  const std::string dir = "/var/lib/qnet/" + inst_->name() + "/qubes/work";
  ASSERT_TRUE(fs::exists(dir + "/home/note"));
  auto rm = inst_->Qnet({"remove", "work"});
  EXPECT_EQ(rm.code, 0) << rm.err;
  EXPECT_FALSE(fs::exists(dir));
}

// `template = "PATH"`: a root tree the test builds itself (dash, cat and the
// libraries they load, a marker in /etc); mmdebstrap would need a mirror.
class ContainmentTemplate : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveRoot()) GTEST_SKIP() << "needs root (network namespaces, nftables)";
    char dir[] = "/var/tmp/qnet-template-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    tree_ = dir;
    for (const char* d : {"usr/bin", "usr/lib/x86_64-linux-gnu", "usr/lib64", "etc"})
      fs::create_directories(tree_ / d);
    for (const char* l : {"bin", "lib", "lib64"})
      fs::create_directory_symlink(fmt::format("usr/{}", l), tree_ / l);
    auto libs = RunCmd(
        {"sh", "-c",
         "ldd /usr/bin/dash /usr/bin/cat | grep -o '/[^ :]*' | grep -v '^/usr/bin/' | sort -u"});
    ASSERT_EQ(libs.code, 0);
    std::istringstream in(libs.out);
    for (std::string lib; std::getline(in, lib);) {
      fs::path real = fs::canonical(lib);
      const bool in_usr = lib.rfind("/usr/", 0) == 0;
      fs::path at = in_usr ? tree_ / lib.substr(1) : tree_ / "usr" / lib.substr(1);
      fs::create_directories(at.parent_path());
      fs::copy_file(real, at, fs::copy_options::overwrite_existing);
    }
    fs::copy_file("/usr/bin/dash", tree_ / "usr/bin/sh");
    fs::copy_file("/usr/bin/cat", tree_ / "usr/bin/cat");
    std::ofstream(tree_ / "etc/marker") << "template\n";
    chain_ = tree_.string() + ".toml";
    std::ofstream(chain_) << fmt::format(
        "[chain]\nname = \"tmpl\"\n\n[lab]\n\n[qube.sys-net]\nrole = \"net\"\nlabel = "
        "\"red\"\n\n[qube.tq]\nnetvm = \"sys-net\"\nrole = \"app\"\nlabel = \"blue\"\n"
        "template = \"{}\"\n",
        tree_.string());
    inst_ = std::make_unique<TestInstance>(fmt::format("qt-tmpl-{}", ::getpid() % 100000));
  }
  void TearDown() override {
    inst_.reset();
    std::error_code ec;
    if (!tree_.empty()) fs::remove_all(tree_, ec);
    if (!chain_.empty()) fs::remove(chain_, ec);
  }
  fs::path tree_;
  std::string chain_;
  std::unique_ptr<TestInstance> inst_;
};

TEST_F(ContainmentTemplate, RootComesFromTheTemplate_ChangesStayInTheQube) {
  auto up = inst_->Qnet({"up", chain_});
  ASSERT_EQ(up.code, 0) << up.err;
  auto marker = inst_->Exec("tq", {"cat", "/etc/marker"});
  EXPECT_EQ(marker.out, "template\n") << marker.err;
  // The host's /usr is not in this qube's view.
  EXPECT_NE(inst_->Exec("tq", {"sh", "-c", "test -e /usr/bin/curl"}).code, 0);
  EXPECT_TRUE(fs::exists("/usr/bin/curl")) << "positive control: the host has it";
  // Root changes its own / (positive control); the template stays as built.
  auto w = inst_->Exec("tq", {"sh", "-c", "echo x > /etc/marker && echo y > /new && cat /new"},
                       /*root=*/true);
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_EQ(w.out, "y\n");
  EXPECT_FALSE(fs::exists(tree_ / "new"));
  std::ifstream in(tree_ / "etc/marker");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "template");
  // The template's files belong to the qube's root there.
  EXPECT_EQ(inst_->Exec("tq", {"sh", "-c", "test -O /etc/marker"}, true).code, 0);
}

TEST_F(ContainmentTemplate, MissingTemplateDirectory_IsRefusedWithItsPath) {
  std::ofstream(chain_)
      << "[chain]\nname = \"tmpl\"\n\n[lab]\n\n[qube.sys-net]\nrole = \"net\"\nlabel = "
         "\"red\"\n\n[qube.tq]\nnetvm = \"sys-net\"\nrole = \"app\"\n"
         "label = \"blue\"\ntemplate = \"/nonexistent/qnet-template\"\n";
  auto up = inst_->Qnet({"up", chain_});
  EXPECT_NE(up.code, 0);
  EXPECT_NE(up.err.find("/nonexistent/qnet-template"), std::string::npos) << up.err;
  auto rel = inst_->Qnet({"up", SourceDir() + "/configs/basic.toml"});  // positive control
  EXPECT_EQ(rel.code, 0) << rel.err;
}

}  // namespace
}  // namespace qnet::testing
