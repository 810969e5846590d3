#include "qnet/tor/torrc.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "qnet/tor/control_command.h"

namespace qnet::tor {
namespace {

Error Invalid(std::string message) { return Error(Errc::kInvalidArgument, std::move(message)); }

bool Alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// Shown in errors: the first 40 printable bytes.
std::string Shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return text.size() > 40 ? out + "..." : out;
}

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

Result<Fingerprint> ParseFingerprint(std::string_view hex) {
  if (hex.size() != 40)
    return Invalid(fmt::format("fingerprint '{}': want 40 hex digits", Shown(hex)));
  auto bytes = HexDecode(hex);
  if (!bytes) return Invalid(fmt::format("fingerprint '{}': not hex", Shown(hex)));
  Fingerprint fp{};
  std::copy(bytes->begin(), bytes->end(), fp.begin());
  return fp;
}

// addr:port or [v6]:port.
Status ParseHostPort(std::string_view text, IpAddr& addr, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return Invalid(fmt::format("'{}': want address:port", Shown(text)));
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']') return Invalid(fmt::format("'{}': unbalanced [", Shown(text)));
    host = host.substr(1, host.size() - 2);
  }
  auto a = IpAddr::Parse(host);
  if (!a) return Invalid(fmt::format("'{}': not an IP address", Shown(host)));
  std::string_view p = text.substr(colon + 1);
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || value == 0 || value > 65535)
    return Invalid(fmt::format("'{}': port must be 1-65535", Shown(p)));
  addr = *a;
  port = static_cast<uint16_t>(value);
  return OkStatus();
}

bool ArgKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}
bool ArgValueChar(char c) {
  return Alnum(c) || c == '+' || c == '/' || c == '=' || c == '_' || c == '-' || c == '.';
}

std::string HostPort(const IpAddr& a, uint16_t port) {
  return a.is_v6() ? fmt::format("[{}]:{}", a, port) : fmt::format("{}:{}", a, port);
}

Status CheckPath(std::string_view field, std::string_view path) {
  if (path.empty() || path.front() != '/')
    return Invalid(fmt::format("{}: '{}' is not an absolute path", field, Shown(path)));
  for (char c : path) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '"' || c == '\\' || c == '#')
      return Invalid(fmt::format("{}: path '{}' contains a space, quote, '#' or control character",
                                 field, Shown(path)));
  }
  return OkStatus();
}

std::string NodeList(const std::vector<NodeSpec>& nodes) {
  std::string out;
  for (const NodeSpec& n : nodes) {
    if (!out.empty()) out.push_back(',');
    out += FormatNodeSpec(n);
  }
  return out;
}

const char* LogLevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kNotice:
      return "notice";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kErr:
      return "err";
  }
  return "notice";
}

}  // namespace

std::string_view TransportName(Transport t) {
  switch (t) {
    case Transport::kObfs4:
      return "obfs4";
  }
  return "?";
}

std::string_view TransportExecutable(Transport t) {
  switch (t) {
    case Transport::kObfs4:
      return "/usr/bin/obfs4proxy";
  }
  return "?";
}

Result<Transport> ParseTransport(std::string_view name) {
  if (name == "obfs4") return Transport::kObfs4;
  return Invalid(fmt::format("transport '{}' is not supported (supported: obfs4)", Shown(name)));
}

Result<Bridge> ParseBridge(std::string_view line) {
  std::vector<std::string_view> words = Words(line);
  if (words.empty()) return Invalid("bridge: empty line");
  Bridge b;
  size_t i = 0;
  if (words[0].find(':') == std::string_view::npos && !IpAddr::Parse(words[0])) {
    QNET_ASSIGN_OR_RETURN(b.transport, ParseTransport(words[0]));
    ++i;
  }
  if (i >= words.size()) return Invalid("bridge: no address:port");
  QNET_TRY(ParseHostPort(words[i++], b.address, b.port).or_else([](const Error& e) {
    return Status(e.Wrap("bridge"));
  }));
  if (i < words.size() && words[i].find('=') == std::string_view::npos) {
    auto fp = ParseFingerprint(words[i++]);
    if (!fp) return Fail(fp.error().Wrap("bridge"));
    b.fingerprint = *fp;
  }
  for (; i < words.size(); ++i) {
    std::string_view w = words[i];
    size_t eq = w.find('=');
    std::string_view key = w.substr(0, eq);
    if (eq == std::string_view::npos || key.empty() ||
        !std::all_of(key.begin(), key.end(), ArgKeyChar))
      return Invalid(fmt::format("bridge: argument '{}': want key=value", Shown(w)));
    std::string_view value = w.substr(eq + 1);
    if (value.empty() || !std::all_of(value.begin(), value.end(), ArgValueChar))
      return Invalid(
          fmt::format("bridge: argument '{}': value has a character not allowed", Shown(w)));
    if (!b.transport) return Invalid("bridge: arguments need a transport (obfs4 ...)");
    b.args.emplace_back(key, value);
  }
  return b;
}

std::string FormatBridge(const Bridge& b) {
  std::string out;
  if (b.transport) out = fmt::format("{} ", TransportName(*b.transport));
  out += HostPort(b.address, b.port);
  if (b.fingerprint) out += " " + HexEncode(*b.fingerprint);
  for (const auto& [k, v] : b.args) out += fmt::format(" {}={}", k, v);
  return out;
}

Result<NodeSpec> ParseNodeSpec(std::string_view text) {
  if (text.starts_with('$')) {
    std::string_view hex = text.substr(1);
    QNET_ASSIGN_OR_RETURN(Fingerprint fp, ParseFingerprint(hex));
    return NodeSpec(fp);
  }
  if (text.starts_with('{')) {
    if (text.size() != 4 || text[3] != '}' || !std::isalpha(static_cast<unsigned char>(text[1])) ||
        !std::isalpha(static_cast<unsigned char>(text[2])))
      return Invalid(
          fmt::format("node '{}': a country is two letters in braces, e.g. {{de}}", Shown(text)));
    CountryCode cc;
    cc.code = {static_cast<char>(std::tolower(text[1])), static_cast<char>(std::tolower(text[2]))};
    return NodeSpec(cc);
  }
  if (auto prefix = IpPrefix::Parse(text)) return NodeSpec(prefix->Network());
  if (!text.empty() && text.size() <= 19 && std::all_of(text.begin(), text.end(), Alnum))
    return NodeSpec(Nickname{std::string(text)});
  return Invalid(fmt::format(
      "node '{}': want $FINGERPRINT, {{cc}}, a nickname (1-19 letters/digits) or an address/prefix",
      Shown(text)));
}

std::string FormatNodeSpec(const NodeSpec& n) {
  struct Visitor {
    std::string operator()(const Fingerprint& fp) const { return "$" + HexEncode(fp); }
    std::string operator()(const CountryCode& cc) const {
      return fmt::format("{{{}{}}}", cc.code[0], cc.code[1]);
    }
    std::string operator()(const Nickname& nick) const { return nick.name; }
    std::string operator()(const IpPrefix& p) const { return p.ToString(); }
  };
  return std::visit(Visitor{}, n);
}

Status ValidateTorOptions(const TorOptions& o) {
  if (o.use_bridges && o.bridges.empty()) return Invalid("UseBridges: true but no Bridge given");
  for (size_t i = 0; i < o.bridges.size(); ++i) {
    const Bridge& b = o.bridges[i];
    if (b.transport && std::find(o.transport_plugins.begin(), o.transport_plugins.end(),
                                 *b.transport) == o.transport_plugins.end())
      return Invalid(fmt::format("Bridge {}: transport {} needs ClientTransportPlugin {}", i,
                                 TransportName(*b.transport), TransportName(*b.transport)));
  }
  return OkStatus();
}

Result<std::string> RenderTorrc(const GatewayTorConfig& c) {
  QNET_TRY(CheckPath("DataDirectory", c.data_directory));
  if (!c.control_port) QNET_TRY(CheckPath("ControlSocket", c.control_socket));
  if (c.control_port && *c.control_port == 0) return Invalid("ControlPort: port 0");
  if (c.log_file) QNET_TRY(CheckPath("Log", *c.log_file));
  if (c.user && (c.user->empty() || c.user->size() > 32 ||
                 !std::all_of(c.user->begin(), c.user->end(),
                              [](char ch) { return Alnum(ch) || ch == '-' || ch == '_'; })))
    return Invalid(fmt::format("User: '{}' is not a system user name", Shown(c.user.value_or(""))));
  if (!c.gateway_address.is_v4() && !c.gateway_address.is_v6())
    return Invalid("gateway address: unset");
  if (c.socks_port == 0 || c.trans_port == 0 || c.dns_port == 0)
    return Invalid("SocksPort/TransPort/DNSPort: port 0");
  if (c.socks_port == c.trans_port || c.socks_port == c.dns_port || c.trans_port == c.dns_port)
    return Invalid("SocksPort/TransPort/DNSPort: ports must differ");
  if (!c.virtual_network.addr().is_v4() || c.virtual_network.len() > 16)
    return Invalid("VirtualAddrNetworkIPv4: want an IPv4 prefix of /16 or shorter");
  QNET_TRY(ValidateTorOptions(c.options));

  const auto at = [&](uint16_t port) { return HostPort(c.gateway_address, port); };
  std::string out = "# Rendered by qnet from typed values; edits are overwritten.\n";
  out += fmt::format("DataDirectory {}\n", c.data_directory);
  if (c.user) out += fmt::format("User {}\n", *c.user);
  out += c.log_file ? fmt::format("Log {} file {}\n", LogLevelName(c.log_level), *c.log_file)
                    : fmt::format("Log {} stderr\n", LogLevelName(c.log_level));
  out += "RunAsDaemon 0\nAvoidDiskWrites 1\n";
  out += fmt::format(
      "SocksPort {} IsolateClientAddr IsolateSOCKSAuth IsolateDestAddr IsolateDestPort\n",
      at(c.socks_port));
  out += fmt::format("TransPort {} IsolateClientAddr IsolateDestAddr IsolateDestPort\n",
                     at(c.trans_port));
  out += fmt::format("DNSPort {} IsolateClientAddr IsolateDestPort\n", at(c.dns_port));
  out += fmt::format("VirtualAddrNetworkIPv4 {}\n", c.virtual_network.Network().ToString());
  out += "AutomapHostsOnResolve 1\n";
  if (c.control_port) {
    out += fmt::format("ControlPort 127.0.0.1:{}\nCookieAuthentication 1\n", *c.control_port);
  } else {
    out += fmt::format("ControlSocket {}\n", c.control_socket);
    out += "ControlPort 0\nCookieAuthentication 1\n";
  }

  const TorOptions& o = c.options;
  for (Transport t : o.transport_plugins)
    out +=
        fmt::format("ClientTransportPlugin {} exec {}\n", TransportName(t), TransportExecutable(t));
  for (const Bridge& b : o.bridges) out += fmt::format("Bridge {}\n", FormatBridge(b));
  if (o.use_bridges) out += "UseBridges 1\n";
  if (!o.entry_nodes.empty()) out += fmt::format("EntryNodes {}\n", NodeList(o.entry_nodes));
  if (!o.exit_nodes.empty()) out += fmt::format("ExitNodes {}\n", NodeList(o.exit_nodes));
  if (!o.exclude_nodes.empty()) out += fmt::format("ExcludeNodes {}\n", NodeList(o.exclude_nodes));
  if (o.strict_nodes) out += fmt::format("StrictNodes {}\n", *o.strict_nodes ? 1 : 0);
  if (o.client_use_ipv6) out += fmt::format("ClientUseIPv6 {}\n", *o.client_use_ipv6 ? 1 : 0);
  return out;
}

}  // namespace qnet::tor
