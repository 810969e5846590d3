// Host id ranges of qubes: parsing the files that reserve ids, overlap,
// and the slot registry (in a temporary directory, no root needed).
#include "qnet/runtime/id_range.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace qnet::runtime {
namespace {

namespace fs = std::filesystem;

TEST(IdRange, ParsesSubuidAndPasswdIds) {
  auto sub = ParseSubIdRanges("alice:100000:65536\n# c\nbad line\nbob:x:1\n");
  ASSERT_EQ(sub.size(), 1u);
  EXPECT_EQ(sub[0].first, 100000u);
  EXPECT_EQ(sub[0].count, 65536u);
  auto pw = ParseIdColumn("root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/h:/bin/sh\n", 2);
  ASSERT_EQ(pw.size(), 2u);
  EXPECT_EQ(pw[1].first, 1000u);
  EXPECT_EQ(pw[1].count, 1u);
}

TEST(IdRange, SlotsOverlappingReservedIdsAreDetected) {
  std::vector<IdInterval> reserved = {{.first = SlotBase(2) + 65535, .count = 1}};
  EXPECT_FALSE(SlotOverlaps(1, reserved));
  EXPECT_TRUE(SlotOverlaps(2, reserved));
  EXPECT_FALSE(SlotOverlaps(3, reserved));
  EXPECT_GE(SlotBase(0), 65536u * 2);
  EXPECT_LE(static_cast<uint64_t>(SlotBase(kIdSlotCount - 1)) + kQubeIdCount, 1ull << 31);
}

class IdSlots : public ::testing::Test {
 protected:
  void SetUp() override {
    char d[] = "/tmp/qnet-idslots-XXXXXX";
    ASSERT_NE(::mkdtemp(d), nullptr);
    dir_ = d;
  }
  void TearDown() override { fs::remove_all(dir_); }
  IdRangePaths Paths(const std::string& inst, const std::string& qube) {
    IdRangePaths p;
    p.registry_dir = dir_ + "/slots";
    p.state_root = dir_ + "/state";
    p.instance = inst;
    p.qube = qube;
    p.reserved_files = {dir_ + "/subuid"};
    return p;
  }
  std::string dir_;
};

TEST_F(IdSlots, EachQubeGetsItsOwnSlot_StickyUntilReleased) {
  std::ofstream(dir_ + "/subuid") << fmt::format("x:{}:10\n", SlotBase(0) + 5);
  auto work = AcquireIdSlot(Paths("a", "work"));
  auto personal = AcquireIdSlot(Paths("a", "personal"));
  auto other = AcquireIdSlot(Paths("b", "work"));
  ASSERT_TRUE(work && personal && other);
  EXPECT_NE(*work, 0u) << "slot 0 overlaps /etc/subuid here";
  EXPECT_NE(*work, *personal);
  EXPECT_NE(*work, *other);
  EXPECT_EQ(AcquireIdSlot(Paths("a", "work")).value(), *work) << "sticky";
  ASSERT_TRUE(ReleaseIdSlot(Paths("a", "work")));
  EXPECT_FALSE(fs::exists(dir_ + "/slots/" + std::to_string(*work)));
  EXPECT_TRUE(ReleaseIdSlot(Paths("a", "work"))) << "idempotent";
  // A freed slot is handed out again.
  EXPECT_EQ(AcquireIdSlot(Paths("c", "new")).value(), *work);
}

TEST_F(IdSlots, SlotOfAQubeWhoseStateWasDeleted_IsTakenOverWhenNoneIsFree) {
  // Only slot 0 is usable here.
  std::ofstream(dir_ + "/subuid") << fmt::format("x:{}:{}\n", SlotBase(1), 1ull << 31);
  auto work = AcquireIdSlot(Paths("a", "work"));
  ASSERT_TRUE(work);
  fs::remove_all(dir_ + "/state/a");
  auto next = AcquireIdSlot(Paths("b", "work"));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, *work);
  auto full = AcquireIdSlot(Paths("c", "work"));
  EXPECT_FALSE(full) << "b/work holds the only slot";
}

}  // namespace
}  // namespace qnet::runtime
