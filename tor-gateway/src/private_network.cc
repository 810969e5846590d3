#include "qnet/tor/private_network.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace qnet::tor {
namespace {

bool IsHex40(std::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c));
         });
}

Status CheckNode(const NetworkNode& n) {
  if (n.nickname.empty() || n.nickname.size() > 19 ||
      !std::all_of(n.nickname.begin(), n.nickname.end(),
                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
    return Fail(Errc::kInvalidArgument,
                fmt::format("node nickname '{}': 1-19 letters/digits", n.nickname));
  if (!n.address.is_v4())
    return Fail(Errc::kInvalidArgument, fmt::format("node {}: address must be IPv4", n.nickname));
  return OkStatus();
}

Status CheckPath(std::string_view what, std::string_view p) {
  if (p.empty() || p.front() != '/' || std::any_of(p.begin(), p.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '#';
      }))
    return Fail(Errc::kInvalidArgument,
                fmt::format("{}: '{}' is not a plain absolute path", what, p));
  return OkStatus();
}

std::string Common(const std::string& data_directory, const std::string& log_file,
                   const std::vector<std::string>& dir_authorities) {
  // Without authorities (the key-listing run) tor refuses TestingTorNetwork.
  std::string out = dir_authorities.empty() ? "" : "TestingTorNetwork 1\n";
  out += "RunAsDaemon 0\nShutdownWaitLength 0\nSafeLogging 0\n";
  out += fmt::format("DataDirectory {}\nLog notice file {}\n", data_directory, log_file);
  for (const std::string& line : dir_authorities) out += line + "\n";
  return out;
}

}  // namespace

PrivateNetworkPlan LabNetworkPlan() {
  PrivateNetworkPlan plan;
  const char* names[] = {"auth1", "auth2", "auth3", "relay1", "relay2"};
  for (int i = 0; i < 5; ++i) {
    NetworkNode n;
    n.nickname = names[i];
    n.address = IpAddr::V4(203, 0, 113, static_cast<uint8_t>(31 + i));
    n.authority = i < 3;
    plan.nodes.push_back(n);
  }
  return plan;
}

Result<std::vector<std::string>> DirAuthorityLines(const PrivateNetworkPlan& plan) {
  std::vector<std::string> out;
  for (const NetworkNode& n : plan.nodes) {
    if (!n.authority) continue;
    QNET_TRY(CheckNode(n));
    if (!IsHex40(n.fingerprint) || !IsHex40(n.v3_identity))
      return Fail(Errc::kFailedPrecondition,
                  fmt::format("authority {}: keys not generated", n.nickname));
    out.push_back(fmt::format("DirAuthority {} orport={} no-v2 v3ident={} {}:{} {}", n.nickname,
                              plan.or_port, n.v3_identity, n.address, plan.dir_port,
                              n.fingerprint));
  }
  if (out.empty()) return Fail(Errc::kFailedPrecondition, "private network: no authority");
  return out;
}

Result<std::string> RenderNodeTorrc(const PrivateNetworkPlan& plan, const NetworkNode& node,
                                    const NodePaths& paths,
                                    const std::vector<std::string>& dir_authorities) {
  QNET_TRY(CheckNode(node));
  QNET_TRY(CheckPath("DataDirectory", paths.data_directory));
  QNET_TRY(CheckPath("Log", paths.log_file));
  QNET_TRY(CheckPath("ServerDNSResolvConfFile", paths.resolv_conf));
  std::string out = Common(paths.data_directory, paths.log_file, dir_authorities);
  out += fmt::format("Nickname {}\nAddress {}\nOutboundBindAddress {}\n", node.nickname,
                     node.address, node.address);
  out += fmt::format("ORPort {}:{}\nDirPort {}:{}\n", node.address, plan.or_port, node.address,
                     plan.dir_port);
  out += "SocksPort 0\nAssumeReachable 1\nContactInfo lab@qnet.invalid\n";
  // The key-listing run: tor refuses testing and authority options without
  // TestingTorNetwork, which needs the authorities this run makes keys for.
  if (dir_authorities.empty()) return out;
  out +=
      "ExitRelay 1\nExitPolicy accept *:*\nExitPolicyRejectPrivate "
      "0\nExitPolicyRejectLocalInterfaces 0\n";
  out += fmt::format(
      "ServerDNSResolvConfFile {}\nServerDNSDetectHijacking 0\nServerDNSAllowBrokenConfig 1\n",
      paths.resolv_conf);
  if (node.authority) {
    out += "AuthoritativeDirectory 1\nV3AuthoritativeDirectory 1\n";
    out +=
        "TestingV3AuthInitialVotingInterval 5\nTestingV3AuthInitialVoteDelay 2\n"
        "TestingV3AuthInitialDistDelay 2\nV3AuthVotingInterval 10\nV3AuthVoteDelay 2\n"
        "V3AuthDistDelay 2\n";
    out += "TestingDirAuthVoteExit *\nTestingDirAuthVoteGuard *\nTestingDirAuthVoteHSDir *\n";
  }
  return out;
}

Result<std::string> RenderClientTorrc(const std::string& data_directory,
                                      const std::string& control_socket,
                                      const std::string& log_file,
                                      const std::vector<std::string>& dir_authorities) {
  QNET_TRY(CheckPath("DataDirectory", data_directory));
  QNET_TRY(CheckPath("ControlSocket", control_socket));
  QNET_TRY(CheckPath("Log", log_file));
  std::string out = Common(data_directory, log_file, dir_authorities);
  out += fmt::format("SocksPort 0\nControlSocket {}\nCookieAuthentication 1\n", control_socket);
  return out;
}

Result<std::string> CertificateFingerprint(std::string_view certificate) {
  size_t at = certificate.find("fingerprint ");
  if (at == std::string_view::npos)
    return Fail(Errc::kProtocol, "authority certificate: no fingerprint line");
  std::string_view fp = certificate.substr(at + 12, 40);
  if (!IsHex40(fp)) return Fail(Errc::kProtocol, "authority certificate: malformed fingerprint");
  return std::string(fp);
}

Result<std::string> ListedFingerprint(std::string_view output) {
  // The last line is "<nickname> XXXX XXXX ... (10 groups)".
  std::string hex;
  size_t sp = output.rfind('\n', output.size() >= 2 ? output.size() - 2 : 0);
  std::string_view line = sp == std::string_view::npos ? output : output.substr(sp + 1);
  size_t first = line.find(' ');
  if (first == std::string_view::npos)
    return Fail(Errc::kProtocol, "tor --list-fingerprint: no fingerprint");
  for (char c : line.substr(first + 1))
    if (std::isxdigit(static_cast<unsigned char>(c))) hex.push_back(c);
  if (!IsHex40(hex)) return Fail(Errc::kProtocol, "tor --list-fingerprint: malformed fingerprint");
  return hex;
}

}  // namespace qnet::tor
