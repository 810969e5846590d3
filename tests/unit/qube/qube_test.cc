#include "qnet/qube/qube.h"

#include <gtest/gtest.h>

namespace qnet::qube {
namespace {

TEST(QubeName, AcceptsQubesNames) {
  for (const char* name : {"sys-net", "anon-whonix", "work", "a", "Debian_12.minimal",
                           "abcdefghijklmnopqrstuvwxyz01234"}) {
    EXPECT_TRUE(ValidateQubeName(name).ok()) << name;
  }
}

TEST(QubeName, RefusesWhatQubesRefuses) {
  struct Row {
    const char* name;
    const char* message;
  };
  constexpr Row kRows[] = {
      {"", "invalid qube name '': empty"},
      {"9lives", "invalid qube name '9lives': must start with a letter"},
      {"-x", "invalid qube name '-x': must start with a letter"},
      {"my vm", "invalid qube name 'my vm': only letters, digits, '_', '.' and '-' are allowed"},
      {"lost+found",
       "invalid qube name 'lost+found': only letters, digits, '_', '.' and '-' are allowed"},
      {"abcdefghijklmnopqrstuvwxyz012345",
       "invalid qube name 'abcdefghijklmnopqrstuvwxyz012345': longer than 31 characters"},
      {"none", "invalid qube name 'none': reserved name"},
      {"default", "invalid qube name 'default': reserved name"},
      {"dom0", "invalid qube name 'dom0': reserved name"},
      {"Domain-0", "invalid qube name 'Domain-0': reserved name"},
      {"work-dm", "invalid qube name 'work-dm': must not end in '-dm'"},
  };
  for (const Row& row : kRows) {
    Status s = ValidateQubeName(row.name);
    ASSERT_FALSE(s.ok()) << row.name;
    EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(s.error().message(), row.message);
  }
}

}  // namespace
}  // namespace qnet::qube
