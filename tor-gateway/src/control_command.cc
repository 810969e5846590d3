#include "qnet/tor/control_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>

#include "qnet/tor/control_reply.h"

namespace qnet::tor {
namespace {

const std::vector<VerbInfo> kTable = {
    {Verb::kGetInfo, "GETINFO", false, false},
    {Verb::kGetConf, "GETCONF", false, false},
    {Verb::kSetConf, "SETCONF", false, false},
    {Verb::kResetConf, "RESETCONF", false, false},
    {Verb::kSetEvents, "SETEVENTS", false, false},
    {Verb::kSignal, "SIGNAL", false, false},
    {Verb::kMapAddress, "MAPADDRESS", false, false},
    {Verb::kAddOnion, "ADD_ONION", false, true},
    {Verb::kDelOnion, "DEL_ONION", false, false},
    {Verb::kCloseCircuit, "CLOSECIRCUIT", false, false},
    {Verb::kCloseStream, "CLOSESTREAM", false, false},
    {Verb::kProtocolInfo, "PROTOCOLINFO", true, false},
    {Verb::kAuthenticate, "AUTHENTICATE", true, true},
    {Verb::kAuthChallenge, "AUTHCHALLENGE", true, false},
};

Error Invalid(std::string message) { return Error(Errc::kInvalidArgument, std::move(message)); }

bool KeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
         c == '_' || c == '.' || c == '-';
}

Status CheckWord(std::string_view what, std::string_view word, bool (*ok)(char)) {
  if (word.empty()) return Invalid(fmt::format("{}: empty", what));
  if (word.size() > 256) return Invalid(fmt::format("{}: longer than 256 bytes", what));
  for (char c : word)
    if (!ok(c))
      return Invalid(
          fmt::format("{}: character 0x{:02x} not allowed", what, static_cast<unsigned char>(c)));
  return OkStatus();
}

Command Make(Verb verb, std::string_view args) {
  std::string line(InfoOf(verb).name);
  if (!args.empty()) {
    line.push_back(' ');
    line.append(args);
  }
  line += "\r\n";
  return Command{verb, std::move(line)};
}

Result<Command> Keys(Verb verb, std::span<const std::string> keys) {
  if (keys.empty()) return Invalid(fmt::format("{}: no key", InfoOf(verb).name));
  std::string args;
  for (const std::string& k : keys) {
    QNET_TRY(CheckWord(fmt::format("{} key", InfoOf(verb).name), k, KeyChar));
    if (!args.empty()) args.push_back(' ');
    args += k;
  }
  return Make(verb, args);
}

bool AddrChar(char c) { return KeyChar(c) || c == ':' || c == '[' || c == ']'; }
bool Base32Char(char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); }
bool Base64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}
bool DigitChar(char c) { return c >= '0' && c <= '9'; }

}  // namespace

const std::vector<VerbInfo>& CommandTable() { return kTable; }

const VerbInfo& InfoOf(Verb verb) { return kTable[static_cast<size_t>(verb)]; }

std::string Command::ForLog() const {
  const VerbInfo& info = InfoOf(verb);
  if (info.secret) return fmt::format("{} <redacted>", info.name);
  std::string_view text = line;
  if (text.ends_with("\r\n")) text.remove_suffix(2);
  return std::string(text);
}

std::string_view SignalName(Signal s) {
  switch (s) {
    case Signal::kNewnym:
      return "NEWNYM";
    case Signal::kReload:
      return "RELOAD";
    case Signal::kDormant:
      return "DORMANT";
    case Signal::kActive:
      return "ACTIVE";
  }
  return "?";
}

std::string_view EventTypeName(EventType e) {
  switch (e) {
    case EventType::kCirc:
      return "CIRC";
    case EventType::kStream:
      return "STREAM";
    case EventType::kStatusClient:
      return "STATUS_CLIENT";
    case EventType::kStatusGeneral:
      return "STATUS_GENERAL";
    case EventType::kNotice:
      return "NOTICE";
    case EventType::kWarn:
      return "WARN";
    case EventType::kErr:
      return "ERR";
  }
  return "?";
}

Result<Command> GetInfo(std::span<const std::string> keys) { return Keys(Verb::kGetInfo, keys); }
Result<Command> GetConf(std::span<const std::string> options) {
  return Keys(Verb::kGetConf, options);
}
Result<Command> ResetConf(std::span<const std::string> options) {
  return Keys(Verb::kResetConf, options);
}

Result<Command> SetConf(std::span<const ConfSetting> settings) {
  if (settings.empty()) return Invalid("SETCONF: no option");
  std::string args;
  for (const auto& [key, value] : settings) {
    QNET_TRY(CheckWord("SETCONF option", key, KeyChar));
    if (!args.empty()) args.push_back(' ');
    args += key;
    if (value) {
      auto quoted = Quote(*value);
      if (!quoted) return Invalid(fmt::format("SETCONF {}: {}", key, quoted.error().message()));
      args += "=" + *quoted;
    }
  }
  return Make(Verb::kSetConf, args);
}

Result<Command> SetEvents(std::span<const EventType> events) {
  std::string args;
  for (EventType e : events) {
    if (!args.empty()) args.push_back(' ');
    args += EventTypeName(e);
  }
  return Make(Verb::kSetEvents, args);  // no events: unsubscribe all
}

Command SignalCommand(Signal s) { return Make(Verb::kSignal, SignalName(s)); }

Result<Command> MapAddress(std::span<const std::pair<std::string, std::string>> mappings) {
  if (mappings.empty()) return Invalid("MAPADDRESS: no mapping");
  std::string args;
  for (const auto& [from, to] : mappings) {
    QNET_TRY(CheckWord("MAPADDRESS from", from, AddrChar));
    QNET_TRY(CheckWord("MAPADDRESS to", to, AddrChar));
    if (!args.empty()) args.push_back(' ');
    args += from + "=" + to;
  }
  return Make(Verb::kMapAddress, args);
}

Result<Command> AddOnion(const AddOnionRequest& request) {
  std::string args;
  if (request.private_key_base64) {
    QNET_TRY(CheckWord("ADD_ONION key", *request.private_key_base64, Base64Char));
    args = "ED25519-V3:" + *request.private_key_base64;
  } else {
    args = "NEW:ED25519-V3";
  }
  std::vector<std::string_view> flags;
  if (request.discard_private_key) flags.push_back("DiscardPK");
  if (request.detach) flags.push_back("Detach");
  if (!flags.empty()) args += fmt::format(" Flags={}", fmt::join(flags, ","));
  if (request.ports.empty()) return Invalid("ADD_ONION: no port");
  for (const OnionPort& p : request.ports) {
    if (p.virtual_port == 0) return Invalid("ADD_ONION: virtual port 0");
    QNET_TRY(CheckWord("ADD_ONION target", p.target, AddrChar));
    args += fmt::format(" Port={},{}", p.virtual_port, p.target);
  }
  return Make(Verb::kAddOnion, args);
}

Result<Command> DelOnion(std::string_view service_id) {
  QNET_TRY(CheckWord("DEL_ONION service id", service_id, Base32Char));
  if (service_id.size() != 56)
    return Invalid(fmt::format("DEL_ONION service id: {} characters, want 56", service_id.size()));
  return Make(Verb::kDelOnion, service_id);
}

Result<Command> CloseCircuit(std::string_view circuit_id) {
  QNET_TRY(CheckWord("CLOSECIRCUIT id", circuit_id, DigitChar));
  return Make(Verb::kCloseCircuit, circuit_id);
}

Result<Command> CloseStream(std::string_view stream_id, int reason) {
  QNET_TRY(CheckWord("CLOSESTREAM id", stream_id, DigitChar));
  if (reason < 1 || reason > 14)
    return Invalid(fmt::format("CLOSESTREAM reason {} not in 1-14", reason));
  return Make(Verb::kCloseStream, fmt::format("{} {}", stream_id, reason));
}

Command ProtocolInfo() { return Make(Verb::kProtocolInfo, "1"); }

Command AuthenticateHex(std::span<const uint8_t> secret) {
  return Make(Verb::kAuthenticate, HexEncode(secret));
}

Result<Command> AuthenticatePassword(std::string_view password) {
  auto quoted = Quote(password);
  if (!quoted) return Invalid("AUTHENTICATE: password contains CR, LF or NUL");
  return Make(Verb::kAuthenticate, *quoted);
}

Command AuthenticateNull() { return Make(Verb::kAuthenticate, ""); }

Command AuthChallenge(std::span<const uint8_t> client_nonce) {
  return Make(Verb::kAuthChallenge, "SAFECOOKIE " + HexEncode(client_nonce));
}

std::string HexEncode(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

Result<std::vector<uint8_t>> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return Fail(Errc::kProtocol, "hex: odd length");
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    auto [ptr, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, out[i], 16);
    if (ec != std::errc() || ptr != hex.data() + 2 * i + 2)
      return Fail(Errc::kProtocol, "hex: not a hex digit");
  }
  return out;
}

}  // namespace qnet::tor
