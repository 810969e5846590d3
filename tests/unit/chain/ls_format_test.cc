#include "ls_format.h"

#include <gtest/gtest.h>

namespace qnet::chain {
namespace {

TEST(LsFormat, AlignedTableWithDropCounts) {
  std::string rows = R"([{"name":"work","state":"running","role":"app","label":"blue",
    "netvm":"sys-firewall","ip":"10.137.0.3","drops":{"input":1,"forward":0,"output":2}},
    {"name":"sys-net","state":"halted","role":"net","label":"red","netvm":null,"ip":"10.137.0.1",
    "drops":null},
    {"name":"disp4521","class":"DispVM","state":"running","role":"app","label":"red",
    "netvm":"sys-firewall","ip":"10.138.17.201","drops":{"input":0,"forward":0,"output":0}}])";
  auto t = FormatQubeTable(rows, false);
  ASSERT_TRUE(t);
  EXPECT_EQ(
      *t,
      "NAME      CLASS   STATE    ROLE  LABEL  NETVM         IP             DROPS(in/fwd/out)\n"
      "work      AppVM   running  app   blue   sys-firewall  10.137.0.3     1/0/2\n"
      "sys-net   AppVM   halted   net   red    -             10.137.0.1     -\n"
      "disp4521  DispVM  running  app   red    sys-firewall  10.138.17.201  0/0/0\n");
}

TEST(LsFormat, ColourOnATerminal) {
  auto t = FormatQubeTable(R"([{"name":"w","label":"blue"}])", true);
  ASSERT_TRUE(t);
  EXPECT_NE(t->find("\033["), std::string::npos);
}

TEST(LsFormat, MalformedReplyIsAnError) { EXPECT_FALSE(FormatQubeTable("{", false)); }

}  // namespace
}  // namespace qnet::chain
