#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "qnet/chain/template_store.h"
#include "template_cli.h"

namespace qnet::chain {
namespace {

using namespace std::string_literals;

TEST(TemplateCreate, MmdebstrapGetsSuiteTreePackagesAndMirror) {
  TemplateArgs a;
  a.name = "deb";
  auto plain = MmdebstrapArgv(a, "/t/.deb.new-1");
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_EQ(*plain, (std::vector<std::string>{"mmdebstrap", "--variant=minbase", "--mode=root",
                                              "bookworm", "/t/.deb.new-1"}));
  a.suite = "trixie";
  a.include = "curl,python3,libc6-dev";
  a.mirror = "file:///srv/mirror";
  auto full = MmdebstrapArgv(a, "/t/x");
  ASSERT_TRUE(full) << full.error().message();
  EXPECT_EQ(*full, (std::vector<std::string>{"mmdebstrap", "--variant=minbase", "--mode=root",
                                             "--include=curl,python3,libc6-dev", "trixie", "/t/x",
                                             "file:///srv/mirror"}));
}

TEST(TemplateCreate, ArgumentsMmdebstrapWouldMisreadAreRefusedNamingTheOption) {
  struct Case {
    std::string suite, include, mirror, error;
  };
  for (const Case& c : {
           Case{"--help", "", "", "--suite: '--help' is not a suite name"},
           Case{"bookworm main", "", "", "--suite: 'bookworm main' is not a suite name"},
           Case{"bookworm", "curl,-x", "", "--include: '-x' is not a package name"},
           Case{"bookworm", "curl,,vim", "", "--include: '' is not a package name"},
           Case{"bookworm", "", "ftp://m",
                "--mirror: 'ftp://m' is not an http(s):// or file:/// URL"},
           Case{"bookworm", "", "http://m x",
                "--mirror: 'http://m x' is not an http(s):// or "
                "file:/// URL"},
       }) {
    TemplateArgs a;
    a.suite = c.suite;
    a.include = c.include;
    a.mirror = c.mirror;
    auto argv = MmdebstrapArgv(a, "/t/x");
    ASSERT_FALSE(argv) << c.error;
    EXPECT_EQ(argv.error().message(), c.error);
  }
}

TEST(TemplateStore, ARunningQubesRecordMakesItsTemplateInUse) {
  char tmp[] = "/tmp/qnet-tpl-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmp), nullptr);
  const std::string run = std::string(tmp) + "/run", netns = std::string(tmp) + "/netns";
  std::filesystem::create_directories(netns);
  const std::string deb = "/var/lib/qnet/templates/deb";
  ASSERT_TRUE(RecordTemplateUse(run + "/i1", "work", deb));
  ASSERT_TRUE(RecordTemplateUse(run + "/i1", "other", deb + "2"));
  // Recorded but not running (no pinned namespace): not a user.
  EXPECT_TRUE(TemplateUsers(deb, run, netns).empty());
  std::ofstream(netns + "/i1-work").put('\n');
  std::ofstream(netns + "/i1-other").put('\n');
  EXPECT_EQ(TemplateUsers(deb, run, netns), std::vector<std::string>{"i1/work"});
  EXPECT_TRUE(TemplateUsers(deb + "/", run, netns).empty());
  ForgetTemplateUse(run + "/i1", "work");
  EXPECT_TRUE(TemplateUsers(deb, run, netns).empty());
  std::filesystem::remove_all(tmp);
}

}  // namespace
}  // namespace qnet::chain
