#include "qnet/tor/control_types.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string_view>
#include <utility>

#include "qnet/tor/control_command.h"

namespace qnet::tor {
namespace {

Error Bad(std::string message) { return Error(Errc::kProtocol, std::move(message)); }

Status RequireOk(const Reply& reply, std::string_view what) {
  if (reply.IsOk()) return OkStatus();
  return Bad(fmt::format("{}: tor answered {}", what, reply.Summary()));
}

Result<uint64_t> Number(std::string_view what, std::string_view text) {
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
    return Bad(fmt::format("{}: '{}' is not a number", what, text.substr(0, 32)));
  return n;
}

template <typename E>
Result<E> Lookup(std::string_view what, std::string_view word,
                 std::initializer_list<std::pair<std::string_view, E>> table) {
  for (const auto& [name, value] : table)
    if (name == word) return value;
  return Bad(fmt::format("{}: unknown value '{}'", what, word.substr(0, 32)));
}

std::vector<std::string_view> Lines(std::string_view body) {
  std::vector<std::string_view> out;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    if (!line.empty()) out.push_back(line);
    if (nl == std::string_view::npos) break;
    body.remove_prefix(nl + 1);
  }
  return out;
}

std::optional<std::string> OptKey(const std::vector<Token>& tokens, std::string_view key) {
  const std::string* v = FindKey(tokens, key);
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

}  // namespace

Result<std::map<std::string, std::string>> ParseGetInfo(const Reply& reply) {
  QNET_TRY(RequireOk(reply, "GETINFO"));
  std::map<std::string, std::string> out;
  for (const ReplyLine& line : reply.lines) {
    if (line.kind == LineKind::kEnd && line.text == "OK") continue;
    size_t eq = line.text.find('=');
    if (eq == std::string::npos || eq == 0)
      return Bad(fmt::format("GETINFO: line without key=value"));
    std::string key = line.text.substr(0, eq);
    out[key] = line.kind == LineKind::kData ? line.data : line.text.substr(eq + 1);
  }
  return out;
}

Result<ProtocolInfoReply> ParseProtocolInfo(const Reply& reply) {
  QNET_TRY(RequireOk(reply, "PROTOCOLINFO"));
  ProtocolInfoReply out;
  bool saw_auth = false;
  for (const ReplyLine& line : reply.lines) {
    std::string_view text = line.text;
    size_t sp = text.find(' ');
    std::string_view word = text.substr(0, sp);
    std::string_view rest = sp == std::string_view::npos ? "" : text.substr(sp + 1);
    QNET_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(rest));
    if (word == "AUTH") {
      saw_auth = true;
      const std::string* methods = FindKey(tokens, "METHODS");
      if (!methods) return Bad("PROTOCOLINFO: AUTH without METHODS");
      std::string_view list = *methods;
      while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view m = list.substr(0, comma);
        if (m == "NULL") out.methods.insert(AuthMethod::kNull);
        if (m == "HASHEDPASSWORD") out.methods.insert(AuthMethod::kHashedPassword);
        if (m == "COOKIE") out.methods.insert(AuthMethod::kCookie);
        if (m == "SAFECOOKIE") out.methods.insert(AuthMethod::kSafeCookie);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
      if (const std::string* file = FindKey(tokens, "COOKIEFILE")) out.cookie_file = *file;
    } else if (word == "VERSION") {
      if (const std::string* v = FindKey(tokens, "Tor")) out.tor_version = *v;
    }
  }
  if (!saw_auth) return Bad("PROTOCOLINFO: no AUTH line");
  return out;
}

Result<AuthChallengeReply> ParseAuthChallenge(const Reply& reply) {
  QNET_TRY(RequireOk(reply, "AUTHCHALLENGE"));
  std::string_view text = reply.EndText();
  if (!text.starts_with("AUTHCHALLENGE ")) return Bad("AUTHCHALLENGE: unexpected reply");
  QNET_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text.substr(14)));
  const std::string* hash = FindKey(tokens, "SERVERHASH");
  const std::string* nonce = FindKey(tokens, "SERVERNONCE");
  if (!hash || !nonce) return Bad("AUTHCHALLENGE: SERVERHASH or SERVERNONCE missing");
  AuthChallengeReply out;
  QNET_ASSIGN_OR_RETURN(out.server_hash, HexDecode(*hash));
  QNET_ASSIGN_OR_RETURN(out.server_nonce, HexDecode(*nonce));
  if (out.server_hash.size() != 32 || out.server_nonce.size() != 32)
    return Bad("AUTHCHALLENGE: SERVERHASH and SERVERNONCE must be 32 bytes");
  return out;
}

Result<BootstrapStatus> ParseBootstrapPhase(std::string_view text) {
  QNET_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  if (tokens.size() < 2 || tokens[0].key || tokens[1].key || tokens[1].value != "BOOTSTRAP")
    return Bad("bootstrap phase: expected '<SEVERITY> BOOTSTRAP ...'");
  const std::string* progress = FindKey(tokens, "PROGRESS");
  if (!progress) return Bad("bootstrap phase: no PROGRESS");
  QNET_ASSIGN_OR_RETURN(uint64_t p, Number("bootstrap PROGRESS", *progress));
  if (p > 100) return Bad(fmt::format("bootstrap PROGRESS {} above 100", p));
  BootstrapStatus out;
  out.progress = static_cast<int>(p);
  out.tag = OptKey(tokens, "TAG").value_or("");
  out.summary = OptKey(tokens, "SUMMARY").value_or("");
  out.warning = OptKey(tokens, "WARNING");
  return out;
}

Result<CircuitStatus> ParseCircuitStatus(std::string_view text) {
  QNET_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  if (tokens.size() < 2 || tokens[0].key || tokens[1].key)
    return Bad("circuit status: expected '<ID> <STATUS> ...'");
  CircuitStatus out;
  QNET_ASSIGN_OR_RETURN(out.id, Number("circuit id", tokens[0].value));
  QNET_ASSIGN_OR_RETURN(out.status, Lookup<CircStatus>("circuit status", tokens[1].value,
                                                       {{"LAUNCHED", CircStatus::kLaunched},
                                                        {"BUILT", CircStatus::kBuilt},
                                                        {"GUARD_WAIT", CircStatus::kGuardWait},
                                                        {"EXTENDED", CircStatus::kExtended},
                                                        {"FAILED", CircStatus::kFailed},
                                                        {"CLOSED", CircStatus::kClosed}}));
  if (tokens.size() > 2 && !tokens[2].key) {
    std::string_view path = tokens[2].value;
    while (!path.empty()) {
      size_t comma = path.find(',');
      out.path.emplace_back(path.substr(0, comma));
      if (comma == std::string_view::npos) break;
      path.remove_prefix(comma + 1);
    }
  }
  out.purpose = OptKey(tokens, "PURPOSE").value_or("");
  out.socks_username = OptKey(tokens, "SOCKS_USERNAME");
  out.reason = OptKey(tokens, "REASON");
  return out;
}

Result<std::vector<CircuitStatus>> ParseCircuitStatusList(std::string_view body) {
  std::vector<CircuitStatus> out;
  for (std::string_view line : Lines(body)) {
    QNET_ASSIGN_OR_RETURN(CircuitStatus c, ParseCircuitStatus(line));
    out.push_back(std::move(c));
  }
  return out;
}

Result<StreamStatus> ParseStreamStatus(std::string_view text) {
  QNET_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  if (tokens.size() < 4 || tokens[0].key || tokens[1].key || tokens[2].key || tokens[3].key)
    return Bad("stream status: expected '<ID> <STATUS> <CIRCUIT> <TARGET> ...'");
  StreamStatus out;
  QNET_ASSIGN_OR_RETURN(out.id, Number("stream id", tokens[0].value));
  QNET_ASSIGN_OR_RETURN(out.state,
                        Lookup<StreamState>("stream status", tokens[1].value,
                                            {{"NEW", StreamState::kNew},
                                             {"NEWRESOLVE", StreamState::kNewResolve},
                                             {"REMAP", StreamState::kRemap},
                                             {"SENTCONNECT", StreamState::kSentConnect},
                                             {"SENTRESOLVE", StreamState::kSentResolve},
                                             {"SUCCEEDED", StreamState::kSucceeded},
                                             {"FAILED", StreamState::kFailed},
                                             {"CLOSED", StreamState::kClosed},
                                             {"DETACHED", StreamState::kDetached},
                                             {"CONTROLLER_WAIT", StreamState::kControllerWait},
                                             {"XOFF_SENT", StreamState::kXoffSent},
                                             {"XOFF_RECV", StreamState::kXoffReceived},
                                             {"XON_SENT", StreamState::kXonSent},
                                             {"XON_RECV", StreamState::kXonReceived}}));
  QNET_ASSIGN_OR_RETURN(out.circuit_id, Number("stream circuit id", tokens[2].value));
  out.target = tokens[3].value;
  out.source_addr = OptKey(tokens, "SOURCE_ADDR");
  out.reason = OptKey(tokens, "REASON");
  return out;
}

Result<std::vector<StreamStatus>> ParseStreamStatusList(std::string_view body) {
  std::vector<StreamStatus> out;
  for (std::string_view line : Lines(body)) {
    QNET_ASSIGN_OR_RETURN(StreamStatus s, ParseStreamStatus(line));
    out.push_back(std::move(s));
  }
  return out;
}

Result<Event> ParseEvent(const Reply& reply) {
  if (!reply.IsEvent() || reply.lines.empty()) return Bad("event: not a 650 reply");
  const ReplyLine& first = reply.lines.front();
  std::string_view text = first.text;
  size_t sp = text.find(' ');
  std::string name(text.substr(0, sp));
  std::string_view rest = sp == std::string_view::npos ? "" : text.substr(sp + 1);
  if (name == "CIRC") {
    QNET_ASSIGN_OR_RETURN(CircuitStatus c, ParseCircuitStatus(rest));
    return Event(CircEvent{std::move(c)});
  }
  if (name == "STREAM") {
    QNET_ASSIGN_OR_RETURN(StreamStatus s, ParseStreamStatus(rest));
    return Event(StreamEvent{std::move(s)});
  }
  if (name == "STATUS_CLIENT") {
    QNET_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(rest));
    if (tokens.size() < 2 || tokens[0].key || tokens[1].key)
      return Bad("STATUS_CLIENT: expected '<SEVERITY> <ACTION> ...'");
    StatusClientEvent e{tokens[0].value, tokens[1].value, {}, std::nullopt};
    if (e.action == "BOOTSTRAP") {
      QNET_ASSIGN_OR_RETURN(BootstrapStatus b, ParseBootstrapPhase(rest));
      e.bootstrap = std::move(b);
    }
    e.args.assign(tokens.begin() + 2, tokens.end());
    return Event(std::move(e));
  }
  if (name == "NOTICE" || name == "WARN" || name == "ERR") {
    std::string message = first.kind == LineKind::kData ? first.data : std::string(rest);
    return Event(LogEvent{std::move(name), std::move(message)});
  }
  return Event(OtherEvent{std::move(name), std::string(rest)});
}

}  // namespace qnet::tor
