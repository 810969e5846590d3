// torrc rendering: one gateway tor's configuration from typed values.
//
// Nothing a user wrote reaches the file as text: bridge lines and node
// lists are parsed into values first (ParseBridge, ParseNodeSpec) and the
// file is printed from those values, so a value can never add a line or an
// option. Paths must be absolute and free of whitespace, quotes and control
// characters. Pure functions, thread-safe.
//
// What a gateway's torrc holds (Whonix-Gateway's shape):
//   DataDirectory, User (tor drops to it), Log
//   SocksPort <gw>:<port> IsolateClientAddr IsolateSOCKSAuth IsolateDestAddr IsolateDestPort
//   TransPort <gw>:<port> IsolateClientAddr IsolateDestAddr IsolateDestPort
//   DNSPort <gw>:<port> IsolateClientAddr IsolateDestPort
//   VirtualAddrNetworkIPv4 + AutomapHostsOnResolve 1 (.onion through DNSPort/TransPort)
//   ControlSocket <path> + CookieAuthentication 1 (+ its cookie file), no ControlPort
//   then the chain file's allow-listed options (TorOptions).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"

namespace qnet::tor {

// ---- Allow-listed options ----

enum class Transport : uint8_t { kObfs4 };
std::string_view TransportName(Transport t);        // "obfs4"
std::string_view TransportExecutable(Transport t);  // "/usr/bin/obfs4proxy"
Result<Transport> ParseTransport(std::string_view name);

using Fingerprint = std::array<uint8_t, 20>;

// "[transport] addr:port [fingerprint] [k=v ...]", e.g.
// "obfs4 198.51.100.7:443 0123...CDEF cert=abc+/= iat-mode=0".
struct Bridge {
  std::optional<Transport> transport;
  IpAddr address;
  uint16_t port = 0;
  std::optional<Fingerprint> fingerprint;
  std::vector<std::pair<std::string, std::string>> args;  // key [a-z0-9_-], value base64-ish
  bool operator==(const Bridge&) const = default;
};
Result<Bridge> ParseBridge(std::string_view line);
std::string FormatBridge(const Bridge& b);

// One element of EntryNodes/ExitNodes/ExcludeNodes: a relay fingerprint
// ("$" + 40 hex), a country code ("{de}"), a nickname (1-19 alphanumerics)
// or an IPv4/IPv6 prefix.
struct CountryCode {
  std::array<char, 2> code{};
  bool operator==(const CountryCode&) const = default;
};
struct Nickname {
  std::string name;
  bool operator==(const Nickname&) const = default;
};
using NodeSpec = std::variant<Fingerprint, CountryCode, Nickname, IpPrefix>;
Result<NodeSpec> ParseNodeSpec(std::string_view text);
std::string FormatNodeSpec(const NodeSpec& n);

struct TorOptions {
  std::vector<Bridge> bridges;
  bool use_bridges = false;
  std::vector<Transport> transport_plugins;
  std::vector<NodeSpec> entry_nodes;
  std::vector<NodeSpec> exit_nodes;
  std::vector<NodeSpec> exclude_nodes;
  std::optional<bool> strict_nodes;
  std::optional<bool> client_use_ipv6;
  bool operator==(const TorOptions&) const = default;
};

// Cross-field checks: UseBridges needs a bridge, a bridge's transport needs
// its plugin. kInvalidArgument naming the option.
Status ValidateTorOptions(const TorOptions& o);

// ---- The gateway ----

enum class LogLevel : uint8_t { kDebug, kInfo, kNotice, kWarn, kErr };

struct GatewayTorConfig {
  std::string data_directory;       // absolute; created by the caller, owned by `user`, 0700
  std::optional<std::string> user;  // tor's User option: a system user name
  IpAddr gateway_address;           // where SocksPort/TransPort/DNSPort listen (the client side)
  uint16_t socks_port = 9050;
  uint16_t trans_port = 9040;
  uint16_t dns_port = 5300;
  std::string control_socket;  // absolute path of the ControlSocket
  // Instead of the ControlSocket: ControlPort 127.0.0.1:<port> (cookie
  // authentication all the same), for a tor whose socket directory cannot
  // exist before it starts.
  std::optional<uint16_t> control_port;
  IpPrefix virtual_network = IpPrefix(IpAddr::V4(10, 192, 0, 0), 10);  // IPv4 only
  LogLevel log_level = LogLevel::kNotice;
  std::optional<std::string> log_file;  // absolute; nullopt: stderr
  TorOptions options;
};

// The torrc text, or kInvalidArgument naming the field.
Result<std::string> RenderTorrc(const GatewayTorConfig& config);

}  // namespace qnet::tor
