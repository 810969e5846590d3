#include "qnet/tor/control_command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace qnet::tor {
namespace {

TEST(CommandTable, HasOneRowPerVerbInEnumOrder) {
  const auto& table = CommandTable();
  ASSERT_EQ(table.size(), 14u);
  for (size_t i = 0; i < table.size(); ++i) EXPECT_EQ(static_cast<size_t>(table[i].verb), i);
  EXPECT_TRUE(InfoOf(Verb::kAuthenticate).secret);
  EXPECT_TRUE(InfoOf(Verb::kProtocolInfo).before_auth);
  EXPECT_FALSE(InfoOf(Verb::kGetInfo).before_auth);
}

TEST(Commands, EncodeAsTorExpectsThem) {
  std::vector<std::string> keys = {"status/bootstrap-phase", "circuit-status"};
  EXPECT_EQ(GetInfo(keys)->line, "GETINFO status/bootstrap-phase circuit-status\r\n");
  std::vector<std::string> opts = {"SocksPort"};
  EXPECT_EQ(GetConf(opts)->line, "GETCONF SocksPort\r\n");
  EXPECT_EQ(ResetConf(opts)->line, "RESETCONF SocksPort\r\n");
  std::vector<ConfSetting> settings = {{"ExitNodes", "{de},{nl}"}, {"StrictNodes", std::nullopt}};
  EXPECT_EQ(SetConf(settings)->line, "SETCONF ExitNodes=\"{de},{nl}\" StrictNodes\r\n");
  std::vector<EventType> events = {EventType::kCirc, EventType::kStatusClient, EventType::kWarn};
  EXPECT_EQ(SetEvents(events)->line, "SETEVENTS CIRC STATUS_CLIENT WARN\r\n");
  EXPECT_EQ(SetEvents({})->line, "SETEVENTS\r\n");
  EXPECT_EQ(SignalCommand(Signal::kNewnym).line, "SIGNAL NEWNYM\r\n");
  EXPECT_EQ(SignalCommand(Signal::kDormant).line, "SIGNAL DORMANT\r\n");
  std::vector<std::pair<std::string, std::string>> maps = {{"1.2.3.4", "torproject.org"}};
  EXPECT_EQ(MapAddress(maps)->line, "MAPADDRESS 1.2.3.4=torproject.org\r\n");
  AddOnionRequest onion;
  onion.ports = {{80, "127.0.0.1:8080"}};
  onion.discard_private_key = true;
  EXPECT_EQ(AddOnion(onion)->line,
            "ADD_ONION NEW:ED25519-V3 Flags=DiscardPK Port=80,127.0.0.1:8080\r\n");
  std::string id(56, 'a');
  EXPECT_EQ(DelOnion(id)->line, "DEL_ONION " + id + "\r\n");
  EXPECT_EQ(CloseCircuit("12")->line, "CLOSECIRCUIT 12\r\n");
  EXPECT_EQ(CloseStream("7", 6)->line, "CLOSESTREAM 7 6\r\n");
  EXPECT_EQ(ProtocolInfo().line, "PROTOCOLINFO 1\r\n");
  std::vector<uint8_t> secret = {0xde, 0xad};
  EXPECT_EQ(AuthenticateHex(secret).line, "AUTHENTICATE DEAD\r\n");
  EXPECT_EQ(AuthenticatePassword("p \"w\"")->line, "AUTHENTICATE \"p \\\"w\\\"\"\r\n");
  EXPECT_EQ(AuthenticateNull().line, "AUTHENTICATE\r\n");
  EXPECT_EQ(AuthChallenge(secret).line, "AUTHCHALLENGE SAFECOOKIE DEAD\r\n");
}

TEST(Commands, RefuseLineInjectionAndBadArguments) {
  std::vector<std::string> injected = {"version\r\nSIGNAL HALT"};
  std::vector<std::string> spaced = {"a b"};
  std::vector<std::string> empty;
  std::vector<ConfSetting> bad_value = {{"ExitNodes", "x\nSIGNAL HALT"}};
  std::vector<ConfSetting> bad_key = {{"Exit Nodes", "x"}};
  std::vector<std::pair<std::string, std::string>> bad_map = {{"a", "b c"}};
  AddOnionRequest no_ports;
  AddOnionRequest bad_target;
  bad_target.ports = {{80, "127.0.0.1:80 Flags=Detach"}};
  AddOnionRequest bad_key_blob;
  bad_key_blob.private_key_base64 = "abc\r\n";
  bad_key_blob.ports = {{80, "127.0.0.1:80"}};
  const std::vector<std::pair<const char*, Status>> cases = {
      {"GETINFO CRLF", GetInfo(injected)},
      {"GETINFO space", GetInfo(spaced)},
      {"GETINFO none", GetInfo(empty)},
      {"GETCONF CRLF", GetConf(injected)},
      {"SETCONF value LF", SetConf(bad_value)},
      {"SETCONF key space", SetConf(bad_key)},
      {"MAPADDRESS space", MapAddress(bad_map)},
      {"ADD_ONION no port", AddOnion(no_ports)},
      {"ADD_ONION target", AddOnion(bad_target)},
      {"ADD_ONION key", AddOnion(bad_key_blob)},
      {"DEL_ONION short", DelOnion("abc")},
      {"DEL_ONION upper", DelOnion(std::string(56, 'A'))},
      {"CLOSECIRCUIT word", CloseCircuit("12 HALT")},
      {"CLOSESTREAM reason", CloseStream("1", 99)},
      {"AUTHENTICATE LF", AuthenticatePassword("pw\n")},
  };
  for (const auto& [name, status] : cases) {
    ASSERT_FALSE(status.ok()) << name;
    EXPECT_EQ(status.error().code(), Errc::kInvalidArgument) << name;
  }
}

TEST(Commands, SecretsNeverReachTheLogForm) {
  std::vector<uint8_t> secret = {0xde, 0xad, 0xbe, 0xef};
  EXPECT_EQ(AuthenticateHex(secret).ForLog(), "AUTHENTICATE <redacted>");
  AddOnionRequest onion;
  onion.private_key_base64 = "c2VjcmV0";
  onion.ports = {{80, "127.0.0.1:80"}};
  EXPECT_EQ(AddOnion(onion)->ForLog(), "ADD_ONION <redacted>");
  EXPECT_EQ(SignalCommand(Signal::kNewnym).ForLog(), "SIGNAL NEWNYM");
}

}  // namespace
}  // namespace qnet::tor
