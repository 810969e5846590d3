// `qnet save`: FormatChainFile writes what ParseChainText reads back equal.
#include <gtest/gtest.h>

#include "qnet/config/chain_file.h"
#include "test_registry.h"

namespace qnet::config {
namespace {

const std::string kData = QNET_CONFIG_TEST_DATA;

// A registry whose key accepts any value, so that every Value shape can be
// carried through the round trip.
KeyRegistry AnyValueRegistry() {
  KeyRegistry registry = testing::TestRegistry();
  Status s = registry.Add(KeyRule{.key = "blob", .any_networked = true});
  EXPECT_TRUE(s.ok());
  return registry;
}

void ExpectRoundTrip(const ChainSpec& spec, const KeyRegistry& registry) {
  std::string text = FormatChainFile(spec);
  auto back = ParseChainText(text, "saved.toml", registry);
  ASSERT_TRUE(back.has_value()) << back.error().message() << "\n" << text;
  EXPECT_EQ(*back, spec) << text;
  EXPECT_EQ(FormatChainFile(*back), text);
}

TEST(FormatChainFile, DesignExampleRoundTrips) {
  KeyRegistry registry = testing::TestRegistry();
  auto spec = ParseChainFile(kData + "/design_example.toml", registry);
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  ExpectRoundTrip(*spec, registry);
}

TEST(FormatChainFile, WritesTheExpectedText) {
  auto spec = ParseChainFile(kData + "/basic.toml", testing::TestRegistry());
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  spec->qubes[2].id = 9;
  spec->qubes[2].id_explicit = true;
  EXPECT_EQ(FormatChainFile(*spec), R"([chain]
name = "basic"
ipv6 = "off"

[lab]

[qube.work]
role = "app"
label = "blue"
netvm = "sys-firewall"
firewall = ["accept"]

[qube.sys-firewall]
role = "firewall"
label = "green"
netvm = "sys-net"

[qube.sys-net]
role = "net"
label = "red"
id = 9
)");
}

TEST(FormatChainFile, EscapesStringsAndKeepsEveryValueShape) {
  KeyRegistry registry = AnyValueRegistry();
  ChainSpec spec;
  spec.name = "esc";
  spec.ipv6 = Ipv6Mode::kRouted;
  QubeSpec net{.name = "net.0", .role = qube::Role::kNet, .label = qube::Label::kBlack};
  net.id = 4;
  net.id_explicit = true;
  QubeSpec app{.name = "work", .role = qube::Role::kApp, .label = qube::Label::kPurple};
  app.netvm = "net.0";
  app.id = 1;
  Value::Table inner = {
      {.key = "plain", .value = Value::Integer(-42)},
      {.key = "needs quoting", .value = Value::Boolean(false)},
      {.key = "nested", .value = Value::MakeTable({})},
  };
  static constexpr char kControlChars[] = "nul \0 bell \a del \x7f";
  Value::Array elements = {
      Value::String("quote \" backslash \\ tab \t newline \n cr \r"),
      Value::String(std::string(kControlChars, sizeof kControlChars - 1)),
      Value::String("utf-8: \xc3\xa9\xe2\x82\xac"),
      Value::Integer(INT64_MIN),
      Value::Boolean(true),
      Value::MakeArray({}),
      Value::MakeTable(inner),
  };
  app.extra.push_back({.key = "blob", .value = Value::MakeArray(elements)});
  app.extra.push_back({.key = "firewall", .value = Value::MakeArray({Value::String("drop")})});
  spec.qubes = {net, app};
  ASSERT_TRUE(ValidateChainSpec(spec, registry).ok());
  ExpectRoundTrip(spec, registry);
  EXPECT_NE(FormatChainFile(spec).find("[qube.\"net.0\"]"), std::string::npos);
}

TEST(ValidateChainSpec, CodeBuiltSpecErrorsHaveNoPosition) {
  ChainSpec spec;
  spec.name = "code";
  QubeSpec net{.name = "sys-net", .role = qube::Role::kNet, .label = qube::Label::kRed};
  net.id = 1;
  QubeSpec app{.name = "work", .role = qube::Role::kApp, .label = qube::Label::kRed};
  app.netvm = "sys-fw";
  app.id = 1;
  spec.qubes = {net, app};
  Status s = ValidateChainSpec(spec, testing::TestRegistry());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "qube.work.netvm: unknown netvm 'sys-fw' (known: sys-net)");
  spec.qubes[1].netvm = "sys-net";
  s = ValidateChainSpec(spec, testing::TestRegistry());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "qube.work.id: id 1 is already used by qube 'sys-net'");
  spec.qubes[1].id = 2;
  EXPECT_TRUE(ValidateChainSpec(spec, testing::TestRegistry()).ok());
}

}  // namespace
}  // namespace qnet::config
