#include "qnet/qrexec/command_line.h"

#include <gtest/gtest.h>

#include <string>

namespace qnet::qrexec {
namespace {

using namespace std::string_literals;

struct Good {
  std::string cmdline;
  RpcCommand expected;
};

TEST(QrexecCommandLine, ParsesValidQubesRpcCommandLines) {
  const Good cases[] = {
      {"root:QUBESRPC qnet.Status dom0", {"root", "qnet.Status", "", "dom0", false}},
      {"DEFAULT:QUBESRPC qubes.Filecopy+arg dom0",
       {"DEFAULT", "qubes.Filecopy", "arg", "dom0", false}},
      {"user:nogui:QUBESRPC qnet.Configure+eth0 sys-net",
       {"user", "qnet.Configure", "eth0", "sys-net", true}},
      {"root:QUBESRPC qnet.X+a+b_c.-d work", {"root", "qnet.X", "a+b_c.-d", "work", false}},
      {"root:QUBESRPC qnet.X+ dom0", {"root", "qnet.X", "", "dom0", false}},
      {"u_1.x-y:QUBESRPC S v.m_1-2", {"u_1.x-y", "S", "", "v.m_1-2", false}},
      {"root:QUBESRPC " + std::string(255, 's') + " dom0",
       {"root", std::string(255, 's'), "", "dom0", false}},
      {"root:QUBESRPC s+" + std::string(65000 - 2, 'a') + " dom0",
       {"root", "s", std::string(65000 - 2, 'a'), "dom0", false}},
      {"root:QUBESRPC s " + std::string(31, 'q'), {"root", "s", "", std::string(31, 'q'), false}},
  };
  for (const Good& c : cases) {
    SCOPED_TRACE(c.cmdline.substr(0, 80));
    Result<RpcCommand> parsed = ParseRpcCommandLine(c.cmdline);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
    EXPECT_EQ(*parsed, c.expected);
    Result<std::string> formatted = FormatRpcCommandLine(*parsed);
    ASSERT_TRUE(formatted.has_value()) << formatted.error().message();
    Result<RpcCommand> reparsed = ParseRpcCommandLine(*formatted);
    ASSERT_TRUE(reparsed.has_value());
    EXPECT_EQ(*reparsed, c.expected);
  }
}

struct Bad {
  std::string cmdline;
  std::string message;
};

TEST(QrexecCommandLine, RefusesInvalidCommandLinesNamingTheField) {
  const Bad cases[] = {
      {"", "cmdline: no ':' after the user name"},
      {"QUBESRPC qnet.Status dom0", "cmdline: no ':' after the user name"},
      {":QUBESRPC a dom0", "cmdline: empty user name"},
      {"-x:QUBESRPC a dom0", "cmdline: user name '-x' must not start with '-'"},
      {"ro ot:QUBESRPC a dom0", "cmdline: user name 'ro ot' has invalid character ' ' at offset 2"},
      {std::string(33, 'u') + ":QUBESRPC a dom0",
       "cmdline: user name '" + std::string(33, 'u') + "' is 33 bytes long, the limit is 32"},
      {"root:ls -l",
       "cmdline: not a QUBESRPC service call (expected 'QUBESRPC ' after the user, "
       "got 'ls -l')"},
      {"root:QUBESRPCqnet.X dom0",
       "cmdline: not a QUBESRPC service call (expected 'QUBESRPC ' after the user, got "
       "'QUBESRPCqnet.X dom0')"},
      {"root:QUBESRPC",
       "cmdline: not a QUBESRPC service call (expected 'QUBESRPC ' after the "
       "user, got 'QUBESRPC')"},
      {"root:QUBESRPC qnet.Status",
       "cmdline: no space after the service descriptor (source qube missing)"},
      {"root:QUBESRPC  dom0", "cmdline: empty service name"},
      {"root:QUBESRPC +arg dom0", "cmdline: empty service name"},
      {"root:QUBESRPC qnet/x dom0",
       "cmdline: service name 'qnet/x' has invalid character '/' at offset 4"},
      {"root:QUBESRPC qnet.X\x01 dom0",
       "cmdline: service name 'qnet.X\\x01' has invalid character \\x01 at offset 6"},
      {"root:QUBESRPC qnet.X+a/b dom0",
       "cmdline: service argument 'a/b' has invalid character '/' at offset 1"},
      {"root:QUBESRPC qnet.X+a\tb dom0",
       "cmdline: service argument 'a\\x09b' has invalid character \\x09 at offset 1"},
      {"root:QUBESRPC " + std::string(256, 's') + " dom0",
       "cmdline: service name '" + std::string(64, 's') +
           "'... is 256 bytes long, the limit is 255"},
      {"root:QUBESRPC s+" + std::string(65000 - 1, 'a') + " dom0",
       "cmdline: service descriptor is 65001 bytes long, the limit is 65000"},
      {"root:QUBESRPC qnet.X dom0 extra",
       "cmdline: unexpected text after the source qube: ' extra'"},
      {"root:QUBESRPC qnet.X dom0 name dom0",
       "cmdline: unexpected text after the source qube: ' name dom0'"},
      {"root:QUBESRPC qnet.X 1abc", "cmdline: source qube name '1abc' must start with a letter"},
      {"root:QUBESRPC qnet.X ", "cmdline: empty source qube name"},
      {"root:QUBESRPC qnet.X wo:rk",
       "cmdline: source qube name 'wo:rk' has invalid character ':' at offset 2"},
      {"root:QUBESRPC qnet.X " + std::string(32, 'q'), "cmdline: source qube name '" +
                                                           std::string(32, 'q') +
                                                           "' is 32 bytes long, the limit is 31"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(c.cmdline.substr(0, 80));
    Result<RpcCommand> parsed = ParseRpcCommandLine(c.cmdline);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error().code(), Errc::kInvalidArgument);
    EXPECT_EQ(parsed.error().message(), c.message);
  }
}

TEST(QrexecCommandLine, FormatValidatesEveryField) {
  EXPECT_EQ(*FormatRpcCommandLine({"root", "qnet.Configure", "eth0", "dom0", false}),
            "root:QUBESRPC qnet.Configure+eth0 dom0");
  EXPECT_EQ(*FormatRpcCommandLine({"DEFAULT", "qnet.Status", "", "dom0", true}),
            "DEFAULT:nogui:QUBESRPC qnet.Status dom0");
  const RpcCommand bad[] = {
      {"", "qnet.X", "", "dom0", false},      {"root", "qnet X", "", "dom0", false},
      {"root", "qnet+X", "", "dom0", false},  {"root", "qnet.X", "a b", "dom0", false},
      {"root", "qnet.X", "", "dom 0", false},
  };
  for (const RpcCommand& c : bad) {
    Result<std::string> r = FormatRpcCommandLine(c);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  }
  Result<std::string> plus = FormatRpcCommandLine({"root", "qnet+X", "", "dom0", false});
  EXPECT_EQ(plus.error().message(), "service name 'qnet+X' has invalid character '+' at offset 4");
}

TEST(QrexecCommandLine, ServiceDescriptorOmitsPlusWithoutArgument) {
  EXPECT_EQ(ServiceDescriptor("qnet.Status", ""), "qnet.Status");
  EXPECT_EQ(ServiceDescriptor("qnet.Configure", "eth0"), "qnet.Configure+eth0");
}

}  // namespace
}  // namespace qnet::qrexec
