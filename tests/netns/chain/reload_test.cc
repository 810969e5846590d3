// Contract 4, reload under fire: a hop's rules reload over and over, from
// before the first packet of a blast that hop must drop (work -> personal,
// vif to vif) until after its last; a capture beyond it must count 0. A
// positive control reloads the unsafe way (delete the table, then re-add it)
// under the same blast and capture, and must see leaks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <regex>
#include <thread>

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
    int reloads = 0;           // reloads done in all
    int batches_in_blast = 0;  // batches of reloads that ended while the blast still ran
    std::string log;
  };

  static constexpr int kBatch = 25;

  // Bounded: the sender stops after 4 s or 400k packets; the reloads stop
  // when it does, or after 60 s.
  static Outcome Fire(bool unsafe) {
    Outcome o;
    const std::string work = LsRow(*inst_, "work").value("ip", "");
    const std::string personal = LsRow(*inst_, "personal").value("ip", "");
    if (work.empty() || personal.empty()) {
      o.log = "no address for work or personal in `qnet ls --json`";
      return o;
    }
    Capture capture(inst_->netns("personal"), "eth0", "src host " + work);
    std::vector<std::string> args = {"test-reload", "sys-firewall", std::to_string(kBatch)};
    if (unsafe) args.push_back("--unsafe");
    // The first batch runs before the blast starts: reloads cover its start.
    auto first = inst_->Qnet(args, 120);
    o.log += first.out + first.err;
    if (first.code != 0) return o;
    o.reloads += kBatch;
    auto blast = std::async(std::launch::async, [&] {
      // From work's network namespace (the qube's own /tmp, where a build
      // tree may live, is private): the netvm's rules see the same packets.
      return inst_->InNetns("work",
                            {Bin("qnet-blast"), "--dst", personal, "--port", "9", "--udp",
                             "--tcp-syn", "--seconds", "4", "--max-packets", "400000"},
                            30);
    });
    const auto stop = std::chrono::steady_clock::now() + 60s;
    // Reload until the blast has ended: the last batch ends after its last packet.
    for (bool blasting = true; blasting && std::chrono::steady_clock::now() < stop;) {
      auto r = inst_->Qnet(args, 120);
      if (r.code != 0) {
        o.log += r.out + r.err;
        break;
      }
      o.reloads += kBatch;
      blasting = blast.wait_for(0s) != std::future_status::ready;
      if (blasting) ++o.batches_in_blast;
    }
    auto b = blast.get();
    auto c = capture.Finish();
    o.captured = ExpectCaptured(c);
    std::smatch m;
    if (std::regex_search(b.out, m, std::regex("sent (\\d+)"))) o.sent = std::stol(m[1]);
    if (o.sent < 0) o.log += "\nblast: " + b.out + b.err;
    o.log += "\ncapture: " + c.log;
    return o;
  }
};

TEST_F(ReloadUnderFire, FlushAndRefill_LeaksNothing) {
  Outcome o = Fire(/*unsafe=*/false);
  EXPECT_GE(o.reloads, 100) << o.log;
  // The windows overlap: reloads ended and began again while packets flew.
  EXPECT_GE(o.batches_in_blast, 2) << o.log;
  EXPECT_GT(o.sent, 1000) << o.log;
  EXPECT_EQ(o.captured, 0) << o.log;
}

TEST_F(ReloadUnderFire, PositiveControl_DeleteAndReAddTableLeaks) {
  Outcome o = Fire(/*unsafe=*/true);
  EXPECT_GE(o.batches_in_blast, 2) << o.log;
  EXPECT_GT(o.sent, 1000) << o.log;
  EXPECT_GT(o.captured, 0) << "the capture would not have seen a leak: " << o.log;
}

}  // namespace
}  // namespace qnet::testing
