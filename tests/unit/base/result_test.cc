#include "qnet/base/result.h"

#include <gtest/gtest.h>

namespace qnet {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Fail(Errc::kInvalidArgument, fmt::format("{} is odd", x));
  return x / 2;
}

Result<int> Quarter(int x) {
  QNET_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Result, ValueAndErrorAreKeptApart) {
  EXPECT_EQ(*Half(4), 2);
  auto r = Half(3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "3 is odd");
}

TEST(Result, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).error().message(), "3 is odd");
}

TEST(Result, MonadicOperationsChain) {
  auto r = Half(8).and_then(Half).transform([](int v) { return v * 10; });
  EXPECT_EQ(*r, 20);
  auto e = Half(5).and_then(Half).or_else(
      [](const Error& err) -> Result<int> { return err.message().size(); });
  EXPECT_EQ(*e, 8u);
}

TEST(Status, WrapAddsContextOutermostFirst) {
  Status s = Fail(ErrnoError("open /x", ENOENT));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kNotFound);
  EXPECT_EQ(s.error().Wrap("config").message(), "config: open /x: No such file or directory");
}

// The checks hold in release builds too (this binary is built without
// NDEBUG only in Debug): reading the wrong alternative aborts with a message.
TEST(ResultDeathTest, ValueOfAnErrorAbortsNamingTheError) {
  Result<int> r = Fail(Errc::kNotFound, "no such qube: work");
  EXPECT_DEATH((void)r.value(),
               "Result::value\\(\\) called on a result holding an error: no such qube: work");
  EXPECT_DEATH((void)*r, "holding an error: no such qube: work");
  EXPECT_DEATH((void)std::move(r).value(), "holding an error");
}

TEST(ResultDeathTest, ErrorOfAValueAborts) {
  Result<std::string> r = std::string("ok");
  EXPECT_DEATH((void)r.error(), "Result::error\\(\\) called on a result holding a value");
  Status s = OkStatus();
  EXPECT_DEATH((void)s.error(), "Status::error\\(\\) called on a result holding a value");
}

}  // namespace
}  // namespace qnet
