// A private Tor network (the lab's): the torrc of each node and of a client
// from typed values. Pure; the caller creates the nodes' namespaces, runs
// tor-gencert and `tor --list-fingerprint` to make keys, and starts tor.
//
// Settings measured to work fully offline (docs/lab.md):
// TestingTorNetwork 1; authorities vote every 10 s (initial interval 5 s,
// vote and distribution delays 2 s) and give every relay the Guard, Exit
// and HSDir flags at once; every node is an exit with ExitPolicy accept *:*
// (a policy limited to the lab's ranges leaves clients with no usable exit;
// the lab has no route out), exit DNS from a resolv.conf naming the lab's
// DNS server, ServerDNSDetectHijacking 0. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"

namespace qnet::tor {

struct NetworkNode {
  std::string nickname;  // 1-19 alphanumerics
  IpAddr address;        // IPv4
  bool authority = false;
  // Filled after key generation (authorities): the relay identity and the
  // v3 authority identity, 40 hex digits each.
  std::string fingerprint;
  std::string v3_identity;
};

struct PrivateNetworkPlan {
  std::vector<NetworkNode> nodes;
  uint16_t or_port = 5000;
  uint16_t dir_port = 7000;
};

// The lab's plan: auth1..auth3 on 203.0.113.31-33, relay1 and relay2 on
// .34 and .35; every node an exit.
PrivateNetworkPlan LabNetworkPlan();

// "DirAuthority auth1 orport=5000 no-v2 v3ident=<V3> 203.0.113.31:7000 <FP>"
// lines; kFailedPrecondition if an authority lacks its fingerprints.
Result<std::vector<std::string>> DirAuthorityLines(const PrivateNetworkPlan& plan);

// A node's torrc. With dir_authorities empty: only its identity (for `tor
// --list-fingerprint`, which makes the keys), else the full one. Paths
// absolute.
struct NodePaths {
  std::string data_directory;
  std::string log_file;
  std::string resolv_conf;  // exits' resolver (names the lab DNS)
};
Result<std::string> RenderNodeTorrc(const PrivateNetworkPlan& plan, const NetworkNode& node,
                                    const NodePaths& paths,
                                    const std::vector<std::string>& dir_authorities);

// A client of the network: no ports but a ControlSocket with cookie auth.
Result<std::string> RenderClientTorrc(const std::string& data_directory,
                                      const std::string& control_socket,
                                      const std::string& log_file,
                                      const std::vector<std::string>& dir_authorities);

// The v3 identity from an authority_certificate ("fingerprint <40 hex>").
Result<std::string> CertificateFingerprint(std::string_view certificate);
// The fingerprint from `tor --list-fingerprint` output ("<nick> <FP in groups of 4>").
Result<std::string> ListedFingerprint(std::string_view output);

}  // namespace qnet::tor
