// ParseWgQuick: one table row per key of the format (what section it
// belongs to, whether it may repeat, how its value is read), one row per
// key qnet refuses and why.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <map>
#include <string>

#include "qnet/vpn/wg_quick.h"

namespace qnet::vpn {
namespace {

enum class Section { kNone, kInterface, kPeer };

struct PeerDraft {
  WgPeer peer;
  int line = 0;  // of its [Peer] header
  bool has_public_key = false;
  bool has_endpoint = false;
  int public_key_line = 0;
};

struct ParseState {
  WgInterface interface;
  int interface_line = 0;  // of the first [Interface] header
  bool has_private_key = false;
  std::vector<PeerDraft> peers;
  int line = 0;
  // Scalar keys seen: (section instance, key) -> line. Instance 0 is the
  // interface (its sections merge), i+1 the i-th peer.
  std::map<std::pair<size_t, std::string_view>, int> seen;
};

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// wg(8) reads a line with every whitespace character removed.
std::string Compact(std::string_view s) {
  std::string out;
  for (char c : s)
    if (!IsSpace(c)) out.push_back(c);
  return out;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// wg-quick splits Address and DNS on commas and whitespace, dropping empty words.
std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',' || IsSpace(c)) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// Text that came from a config may be a pasted key: quote it only when it is
// shorter than any key text (44 base64 characters), and never a piece of a
// longer one, so no secret ends up in an error message or a log.
std::string Quote(std::string_view s) {
  if (s.size() > 32) return fmt::format("({} characters, not shown)", s.size());
  return fmt::format("`{}`", s);
}

Result<uint64_t> ParseNumber(std::string_view text, uint64_t max, bool allow_hex) {
  int base = 10;
  if (allow_hex && text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v > max)
    return Fail(Errc::kInvalidArgument, "");
  return v;
}

Status BadNumber(std::string_view text, std::string_view range) {
  return Fail(Errc::kInvalidArgument, fmt::format("{} is not {}", Quote(text), range));
}

bool IsHostName(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

Result<Key> ParseKey(std::string_view value, bool may_be_zero) {
  QNET_ASSIGN_OR_RETURN(Key key, Key::FromBase64(Compact(value)));
  if (!may_be_zero && key.IsZero())
    return Fail(Errc::kInvalidArgument, "the all-zero key is not a key");
  return key;
}

PeerDraft& Peer(ParseState& st) { return st.peers.back(); }

// ---- [Interface] ----

Status OnPrivateKey(std::string_view value, ParseState& st) {
  QNET_ASSIGN_OR_RETURN(st.interface.private_key, ParseKey(value, false));
  st.has_private_key = true;
  return OkStatus();
}

Status OnAddress(std::string_view value, ParseState& st) {
  for (const std::string& word : Words(value)) {
    auto prefix = IpPrefix::Parse(word);
    if (!prefix)
      return Fail(
          Errc::kInvalidArgument,
          fmt::format("{} is not an address (expected 10.64.0.2/32 or fd00::2/128)", Quote(word)));
    st.interface.addresses.push_back(*prefix);
  }
  return OkStatus();
}

Status OnDns(std::string_view value, ParseState& st) {
  for (const std::string& word : Words(value)) {
    // wg-quick's own test: digits and dots, or a colon, is an address;
    // anything else is a search domain.
    const bool numeric = word.find_first_not_of("0123456789.") == std::string::npos;
    if (numeric || word.find(':') != std::string::npos) {
      auto addr = IpAddr::Parse(word);
      if (!addr)
        return Fail(Errc::kInvalidArgument, fmt::format("{} is not an IP address", Quote(word)));
      st.interface.dns.push_back(*addr);
    } else if (IsHostName(word)) {
      st.interface.dns_search.push_back(word);
    } else {
      return Fail(Errc::kInvalidArgument,
                  fmt::format("{} is neither an IP address nor a search domain", Quote(word)));
    }
  }
  return OkStatus();
}

Status OnMtu(std::string_view value, ParseState& st) {
  const std::string text = Compact(value);
  auto n = ParseNumber(text, 65535, false);
  if (!n || *n < 576) return BadNumber(text, "an MTU in 576..65535");
  st.interface.mtu = static_cast<uint32_t>(*n);
  return OkStatus();
}

Status OnListenPort(std::string_view value, ParseState& st) {
  const std::string text = Compact(value);
  auto n = ParseNumber(text, 65535, false);
  if (!n) return BadNumber(text, "a port number in 0..65535");
  st.interface.listen_port = static_cast<uint16_t>(*n);
  return OkStatus();
}

Status OnFwMark(std::string_view value, ParseState& st) {
  const std::string text = Compact(value);
  if (EqualsNoCase(text, "off")) {
    st.interface.fwmark = 0;
    return OkStatus();
  }
  auto n = ParseNumber(text, 0xffffffffu, true);
  if (!n) return BadNumber(text, "\"off\" or a 32-bit mark (decimal or 0x hex)");
  st.interface.fwmark = static_cast<uint32_t>(*n);
  return OkStatus();
}

// ---- [Peer] ----

Status OnPublicKey(std::string_view value, ParseState& st) {
  QNET_ASSIGN_OR_RETURN(Peer(st).peer.public_key, ParseKey(value, false));
  Peer(st).has_public_key = true;
  Peer(st).public_key_line = st.line;
  return OkStatus();
}

Status OnPresharedKey(std::string_view value, ParseState& st) {
  QNET_ASSIGN_OR_RETURN(Key key, ParseKey(value, true));
  Peer(st).peer.preshared_key = key;
  return OkStatus();
}

Result<uint16_t> ParsePort(std::string_view text) {
  auto n = ParseNumber(text, 65535, false);
  if (!n || *n == 0)
    return Fail(Errc::kInvalidArgument,
                fmt::format("port {} is not a number in 1..65535", Quote(text)));
  return static_cast<uint16_t>(*n);
}

Status OnEndpoint(std::string_view value, ParseState& st) {
  const std::string text = Compact(value);
  Endpoint ep;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos)
      return Fail(Errc::kInvalidArgument, "'[' without ']' (expected [address]:port)");
    ep.host = text.substr(1, close - 1);
    auto addr = IpAddr::Parse(ep.host);
    if (!addr || !addr->is_v6())
      return Fail(Errc::kInvalidArgument,
                  fmt::format("{} in brackets is not an IPv6 address", Quote(ep.host)));
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return Fail(Errc::kInvalidArgument, "no port (expected [address]:port)");
    port = std::string_view(text).substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos)
      return Fail(Errc::kInvalidArgument, "no port (expected host:port)");
    ep.host = text.substr(0, colon);
    port = std::string_view(text).substr(colon + 1);
    if (ep.host.find(':') != std::string::npos)
      return Fail(Errc::kInvalidArgument,
                  "an IPv6 address needs brackets (expected [address]:port)");
    if (ep.host.empty()) return Fail(Errc::kInvalidArgument, "no host (expected host:port)");
    if (!IsHostName(ep.host))
      return Fail(Errc::kInvalidArgument,
                  "the host is neither an IPv4 address nor a host name (letters, digits, '-', "
                  "'.', '_')");
  }
  QNET_ASSIGN_OR_RETURN(ep.port, ParsePort(port));
  Peer(st).peer.endpoint = std::move(ep);
  Peer(st).has_endpoint = true;
  return OkStatus();
}

Status OnAllowedIps(std::string_view value, ParseState& st) {
  const std::string text = Compact(value);
  if (text.empty()) return OkStatus();  // wg(8): an empty list adds nothing
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string_view word = std::string_view(text).substr(start, comma - start);
    auto prefix = IpPrefix::Parse(word);
    if (!prefix)
      return Fail(Errc::kInvalidArgument,
                  fmt::format("{} is not an address or prefix (expected 0.0.0.0/0, ::/0, ...)",
                              Quote(word)));
    Peer(st).peer.allowed_ips.push_back(*prefix);
    start = comma + 1;
  }
  return OkStatus();
}

Status OnPersistentKeepalive(std::string_view value, ParseState& st) {
  const std::string text = Compact(value);
  if (EqualsNoCase(text, "off")) {
    Peer(st).peer.persistent_keepalive = 0;
    return OkStatus();
  }
  auto n = ParseNumber(text, 65535, false);
  if (!n) return BadNumber(text, "\"off\" or seconds in 0..65535");
  Peer(st).peer.persistent_keepalive = static_cast<uint16_t>(*n);
  return OkStatus();
}

using Handler = Status (*)(std::string_view value, ParseState& st);

struct KeyRow {
  std::string_view name;
  Section section;
  bool repeatable;  // lists: repeated lines append
  Handler handle;
};

constexpr std::array kKeys = {
    KeyRow{"PrivateKey", Section::kInterface, false, OnPrivateKey},
    KeyRow{"Address", Section::kInterface, true, OnAddress},
    KeyRow{"DNS", Section::kInterface, true, OnDns},
    KeyRow{"MTU", Section::kInterface, false, OnMtu},
    KeyRow{"ListenPort", Section::kInterface, false, OnListenPort},
    KeyRow{"FwMark", Section::kInterface, false, OnFwMark},
    KeyRow{"PublicKey", Section::kPeer, false, OnPublicKey},
    KeyRow{"PresharedKey", Section::kPeer, false, OnPresharedKey},
    KeyRow{"Endpoint", Section::kPeer, false, OnEndpoint},
    KeyRow{"AllowedIPs", Section::kPeer, true, OnAllowedIps},
    KeyRow{"PersistentKeepalive", Section::kPeer, false, OnPersistentKeepalive},
};

struct RefusedRow {
  std::string_view name;
  std::string_view why;
};

constexpr std::string_view kNoShell =
    "refused: qnet never runs shell commands from a config (the vpn qube sets up its own "
    "addresses, routes, DNS and kill switch)";
constexpr std::array kRefused = {
    RefusedRow{"PreUp", kNoShell},
    RefusedRow{"PostUp", kNoShell},
    RefusedRow{"PreDown", kNoShell},
    RefusedRow{"PostDown", kNoShell},
    RefusedRow{"SaveConfig", "refused: qnet never writes a config file back"},
    RefusedRow{"Table",
               "refused: qnet routes the tunnel itself (everything from the vpn qube's clients "
               "goes through it)"},
};

const char* SectionName(Section s) { return s == Section::kPeer ? "[Peer]" : "[Interface]"; }

Status OnHeader(std::string_view line, ParseState& st, Section& section) {
  const std::string header = Compact(line);
  if (EqualsNoCase(header, "[Interface]")) {
    section = Section::kInterface;
    if (st.interface_line == 0) st.interface_line = st.line;
  } else if (EqualsNoCase(header, "[Peer]")) {
    section = Section::kPeer;
    st.peers.push_back(PeerDraft{.line = st.line});
  } else {
    return Fail(Errc::kInvalidArgument,
                fmt::format("unknown section {} (expected [Interface] or [Peer])", Quote(header)));
  }
  return OkStatus();
}

// One "Key = Value" line; errors without the "FILE:LINE: " prefix.
Status OnKeyLine(std::string_view line, ParseState& st, Section section) {
  const size_t eq = line.find('=');
  if (eq == std::string_view::npos)
    return Fail(Errc::kInvalidArgument, "expected `Key = Value` or a [Section]");
  const std::string_view key = Trim(line.substr(0, eq));
  const std::string_view value = Trim(line.substr(eq + 1));
  for (const RefusedRow& row : kRefused)
    if (EqualsNoCase(key, row.name))
      return Fail(Errc::kInvalidArgument, fmt::format("{}: {}", row.name, row.why));
  const auto row = std::find_if(kKeys.begin(), kKeys.end(),
                                [&](const KeyRow& r) { return EqualsNoCase(key, r.name); });
  if (row == kKeys.end())
    return Fail(Errc::kInvalidArgument, fmt::format("unknown key {}", Quote(key)));
  if (section == Section::kNone)
    return Fail(Errc::kInvalidArgument,
                fmt::format("{}: before any [Interface] or [Peer] section", row->name));
  if (section != row->section)
    return Fail(Errc::kInvalidArgument,
                fmt::format("{}: belongs in {}, not {}", row->name, SectionName(row->section),
                            SectionName(section)));
  if (!row->repeatable) {
    const size_t instance = section == Section::kPeer ? st.peers.size() : 0;
    auto [it, fresh] = st.seen.emplace(std::pair{instance, row->name}, st.line);
    if (!fresh)
      return Fail(Errc::kInvalidArgument,
                  fmt::format("{}: given twice (first at line {})", row->name, it->second));
  }
  Status s = row->handle(value, st);
  if (!s) return Fail(s.error().Wrap(row->name));
  return OkStatus();
}

Result<WgQuickConfig> Finish(ParseState& st, std::string_view file) {
  auto fail = [&](int line, std::string_view what) {
    return Fail(Errc::kInvalidArgument, line > 0 ? fmt::format("{}:{}: {}", file, line, what)
                                                 : fmt::format("{}: {}", file, what));
  };
  if (st.interface_line == 0) return fail(0, "no [Interface] section");
  if (!st.has_private_key) return fail(st.interface_line, "[Interface] has no PrivateKey");
  if (st.peers.empty()) return fail(0, "no [Peer] section (the tunnel needs a server)");
  WgQuickConfig config{.interface = std::move(st.interface), .peers = {}};
  for (size_t i = 0; i < st.peers.size(); ++i) {
    const PeerDraft& p = st.peers[i];
    if (!p.has_public_key) return fail(p.line, "[Peer] has no PublicKey");
    if (!p.has_endpoint)
      return fail(p.line,
                  "[Peer] has no Endpoint (the vpn qube only connects out: a peer it cannot "
                  "reach carries nothing)");
    for (size_t j = 0; j < i; ++j)
      if (st.peers[j].peer.public_key == p.peer.public_key)
        return fail(
            p.public_key_line,
            fmt::format("PublicKey: the same peer as the [Peer] at line {}", st.peers[j].line));
    config.peers.push_back(p.peer);
  }
  return config;
}

}  // namespace

Result<WgQuickConfig> ParseWgQuick(std::string_view text, std::string_view file_name) {
  ParseState st;
  Section section = Section::kNone;
  while (!text.empty() || st.line == 0) {
    ++st.line;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line = Trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    Status s = line.front() == '[' ? OnHeader(line, st, section) : OnKeyLine(line, st, section);
    if (!s) return Fail(s.error().Wrap(fmt::format("{}:{}", file_name, st.line)));
  }
  return Finish(st, file_name);
}

}  // namespace qnet::vpn
