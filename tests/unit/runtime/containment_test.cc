#include "qnet/runtime/containment.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace qnet::runtime {
namespace {

Containment Sample() {
  return Containment{.id_base = 1073741824,
                     .home_dir = "/var/lib/qnet/i/qubes/mail/home",
                     .etc_dir = "/var/lib/qnet/i/etc"};
}

TEST(Containment, FormatParsesBack) {
  auto back = ParseContainment(FormatContainment(Sample()));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->id_base, 1073741824u);
  EXPECT_EQ(back->home_dir, "/var/lib/qnet/i/qubes/mail/home");
  EXPECT_EQ(back->etc_dir, "/var/lib/qnet/i/etc");
  EXPECT_EQ(back->template_dir, "");
}

// `qnet template run`: the tree itself is the qube's /. The line is written
// only then, and a writable root without a template is refused.
TEST(Containment, TemplateModeWritableParsesBackAndNeedsATemplate) {
  Containment c = Sample();
  c.etc_dir.clear();
  c.template_dir = "/var/lib/qnet/templates/deb";
  EXPECT_EQ(FormatContainment(c).find("template_mode"), std::string::npos);
  c.template_writable = true;
  auto back = ParseContainment(FormatContainment(c));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_TRUE(back->template_writable);
  EXPECT_EQ(back->template_dir, "/var/lib/qnet/templates/deb");
  auto bad = ParseContainment(FormatContainment(c) + "template_mode=rw\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "containment line 6: template_mode: 'rw' is not overlay|writable");
  Containment host = Sample();
  host.template_writable = true;
  auto none = ParseContainment(FormatContainment(host));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "containment: template_mode writable without a template");
}

TEST(Containment, ThroughASealedMemfd) {
  auto fd = ContainmentFd(Sample());
  ASSERT_TRUE(fd) << fd.error().message();
  // Sealed: the reader cannot be handed something else later.
  EXPECT_LT(::write(fd->get(), "x", 1), 0);
  auto back = ReadContainment(fd->get());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->home_dir, Sample().home_dir);
}

TEST(Containment, BadInputIsRefusedNamingLineAndKey) {
  EXPECT_EQ(ParseContainment("id_base=1\nhome=/h\netc=/e\nbogus=1\n").error().message(),
            "containment line 4: unknown key 'bogus'");
  EXPECT_EQ(ParseContainment("id_base=x\n").error().message(),
            "containment line 1: id_base: 'x' is not a host id");
  EXPECT_EQ(ParseContainment("id_base=1\nhome=rel\n").error().message(),
            "containment line 2: home: 'rel' is not an absolute path");
  EXPECT_EQ(ParseContainment("home=/h\netc=/e\n").error().message(),
            "containment: no id_base (a qube never runs uncontained)");
  EXPECT_EQ(ParseContainment("id_base=1\nhome=/h\n").error().message(),
            "containment: neither etc nor template");
  EXPECT_EQ(ParseContainment("junk\n").error().message(), "containment line 1: not key=value");
  Containment bad = Sample();
  bad.home_dir = "/a\nid_base=5";
  EXPECT_FALSE(ContainmentFd(bad));
}

}  // namespace
}  // namespace qnet::runtime
