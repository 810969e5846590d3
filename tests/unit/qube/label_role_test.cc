#include <gtest/gtest.h>

#include "qnet/qube/label.h"
#include "qnet/qube/role.h"

namespace qnet::qube {
namespace {

TEST(Role, ParseRole_RoundTripsEveryName) {
  for (Role role : kAllRoles) {
    auto parsed = ParseRole(RoleName(role));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, role);
  }
}

TEST(Role, ParseRole_ErrorListsValidNames) {
  auto r = ParseRole("proxy");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "unknown role 'proxy' (valid: net, firewall, vpn, tor, app)");
  EXPECT_FALSE(ParseRole("Net").has_value());
  EXPECT_FALSE(ParseRole("").has_value());
}

TEST(Role, OnlyAppProvidesNoNetwork) {
  EXPECT_TRUE(ProvidesNetwork(Role::kNet));
  EXPECT_TRUE(ProvidesNetwork(Role::kFirewall));
  EXPECT_TRUE(ProvidesNetwork(Role::kVpn));
  EXPECT_TRUE(ProvidesNetwork(Role::kTor));
  EXPECT_FALSE(ProvidesNetwork(Role::kApp));
}

TEST(Label, NamesAndQubesColours) {
  struct Row {
    Label label;
    const char* name;
    const char* hex;
  };
  constexpr Row kRows[] = {
      {Label::kRed, "red", "#cc0000"},       {Label::kOrange, "orange", "#f57900"},
      {Label::kYellow, "yellow", "#edd400"}, {Label::kGreen, "green", "#73d216"},
      {Label::kGray, "gray", "#555753"},     {Label::kBlue, "blue", "#3465a4"},
      {Label::kPurple, "purple", "#75507b"}, {Label::kBlack, "black", "#000000"},
  };
  for (const Row& row : kRows) {
    EXPECT_EQ(LabelName(row.label), row.name);
    EXPECT_EQ(LabelHexColor(row.label), row.hex);
    EXPECT_EQ(ParseLabel(row.name).value(), row.label);
    EXPECT_TRUE(LabelAnsiColor(row.label).starts_with("\033["));
    EXPECT_TRUE(LabelAnsiColor(row.label).ends_with("m"));
  }
}

TEST(Label, ParseLabel_ErrorListsValidNames) {
  auto r = ParseLabel("pink");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "unknown label 'pink' (valid: red, orange, yellow, green, gray, blue, purple, black)");
}

}  // namespace
}  // namespace qnet::qube
