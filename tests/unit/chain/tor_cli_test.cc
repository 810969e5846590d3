// `qnet tor`'s text: what a user reads about a gateway's bootstrap, gate,
// counters and circuits.
#include "tor_cli.h"

#include <gtest/gtest.h>

namespace qnet::chain {
namespace {

TEST(TorCli, ProgressBarFillsInProportionAndClamps) {
  EXPECT_EQ(ProgressBar(0, 10), "[..........]");
  EXPECT_EQ(ProgressBar(50, 10), "[#####.....]");
  EXPECT_EQ(ProgressBar(100, 10), "[##########]");
  EXPECT_EQ(ProgressBar(250, 4), "[####]");
  EXPECT_EQ(ProgressBar(-3, 4), "[....]");
}

TEST(TorCli, StatusShowsPhaseBarGateAndCounters) {
  const char* json = R"({"qube":"sys-whonix","gate":"closed","control":"ready",
    "bootstrap":{"progress":50,"tag":"loading_descriptors","summary":"Loading relay descriptors"},
    "counters":{"tor-refused":3,"tor-downstream-drop":0,"tor-forward-drop":5,"tor-uplink-drop":1}})";
  auto text = FormatTorStatus(json);
  ASSERT_TRUE(text.has_value()) << text.error().message();
  EXPECT_EQ(*text,
            "sys-whonix: bootstrap  50% [##########..........] loading_descriptors: Loading relay "
            "descriptors\n"
            "gate: closed (downstream TCP and DNS refused at once)\n"
            "control port: ready\n"
            "counters: refused 3, downstream dropped 0, forward dropped 5, uplink dropped 1\n");
  EXPECT_EQ(TorStatusProgress(json), 50);
}

TEST(TorCli, StatusWithoutTorSaysSoAndBadAnswersAreErrors) {
  const char* json = R"({"gate":"closed","control":"disconnected"})";
  EXPECT_EQ(TorStatusProgress(json), -1);
  auto text = FormatTorStatus(json);
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("not reported yet"), std::string::npos) << *text;
  EXPECT_FALSE(FormatTorStatus("[]").has_value());
  EXPECT_FALSE(FormatTorCircuits("{}").has_value());
}

TEST(TorCli, CircuitsOnePerLine) {
  auto text = FormatTorCircuits(
      R"([{"id":3,"status":"BUILT","purpose":"GENERAL","path":["$AA~auth1","$BB~relay2"]}])");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "3 BUILT GENERAL $AA~auth1,$BB~relay2\n");
  EXPECT_EQ(*FormatTorCircuits("[]"), "no circuits\n");
}

}  // namespace
}  // namespace qnet::chain
