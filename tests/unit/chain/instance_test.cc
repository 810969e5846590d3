#include "qnet/chain/instance.h"

#include <gtest/gtest.h>

namespace qnet::chain {
namespace {

TEST(Instance, DerivesPathsAndNamespaceNames) {
  auto i = Instance::Create("t1");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->runtime_dir(), "/run/qnet/t1");
  EXPECT_EQ(i->state_file(), "/var/lib/qnet/t1/state.json");
  EXPECT_EQ(i->netns_path("sys-net"), "/run/netns/t1-sys-net");
}

TEST(Instance, BadNamesAreRefused) {
  for (const char* bad : {"", "-x", "A", "a/b", "a b", "0123456789012345678901234"})
    EXPECT_FALSE(Instance::Create(bad)) << bad;
}

}  // namespace
}  // namespace qnet::chain
