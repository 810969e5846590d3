// Contract 4, reload under fire: a hop's rules reload hundreds of times
// while a sender blasts packets that hop must drop (work -> personal, vif
// to vif); a capture beyond it must count 0. A positive control reloads the
// unsafe way (delete the table, then re-add it) and must see leaks.
#include <unistd.h>

#include <future>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "harness.h"

namespace qnet::testing {
namespace {

using namespace std::chrono_literals;

struct ReloadUnderFireTraits {
  static constexpr const char* kPrefix = "qt-reload";
  static constexpr const char* kFile = "tests/netns/chain/data/two-apps.toml";
};

class ReloadUnderFire : public SharedChainTest<ReloadUnderFireTraits> {
 protected:
  struct Outcome {
    long sent = -1, captured = -1;
    std::string reload;
  };

  // Bounded: the sender stops after 4 s or 400k packets; the capture after 7 s.
  static Outcome Fire(bool unsafe, int reloads) {
    auto capture = std::async(std::launch::async, [] {
      return inst_->InNetns("personal", {Bin("qnet-capture"), "--iface", "eth0", "--filter",
                                         "src host 10.137.0.3", "--seconds", "7"}, 30);
    });
    std::this_thread::sleep_for(1s);
    auto blast = std::async(std::launch::async, [] {
      // From work's network namespace (the qube's own /tmp, where a build
      // tree may live, is private): the netvm's rules see the same packets.
      return inst_->InNetns("work", {Bin("qnet-blast"), "--dst", "10.137.0.4", "--port", "9",
                                     "--udp", "--tcp-syn", "--seconds", "4", "--max-packets",
                                     "400000"}, 30);
    });
    std::vector<std::string> args = {"test-reload", "sys-firewall", std::to_string(reloads)};
    if (unsafe) args.push_back("--unsafe");
    auto reload = inst_->Qnet(args, 120);
    Outcome o;
    o.reload = reload.out + reload.err;
    auto b = blast.get();
    auto c = capture.get();
    std::smatch m;
    if (std::regex_search(b.out, m, std::regex("sent (\\d+)"))) o.sent = std::stol(m[1]);
    if (std::regex_search(c.out, m, std::regex("captured (\\d+)"))) o.captured = std::stol(m[1]);
    if (o.sent < 0) o.reload += "\nblast: " + b.out + b.err;
    if (o.captured < 0) o.reload += "\ncapture: " + c.out + c.err;
    return o;
  }
};

TEST_F(ReloadUnderFire, FlushAndRefill_LeaksNothing) {
  Outcome o = Fire(/*unsafe=*/false, 300);
  EXPECT_NE(o.reload.find("reloaded 300"), std::string::npos) << o.reload;
  EXPECT_GT(o.sent, 1000) << o.reload;
  EXPECT_EQ(o.captured, 0) << o.reload;
}

TEST_F(ReloadUnderFire, PositiveControl_DeleteAndReAddTableLeaks) {
  Outcome o = Fire(/*unsafe=*/true, 300);
  EXPECT_NE(o.reload.find("reloaded 300"), std::string::npos) << o.reload;
  EXPECT_GT(o.sent, 1000) << o.reload;
  EXPECT_GT(o.captured, 0) << "the capture would not have seen a leak: " << o.reload;
}

}  // namespace
}  // namespace qnet::testing
