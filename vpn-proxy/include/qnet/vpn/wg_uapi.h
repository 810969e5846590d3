// The userspace backend: WireGuard's cross-platform UAPI text protocol, as
// wireguard-go serves it on a Unix socket (/var/run/wireguard/IFACE.sock).
//
//   request  "get=1\n\n"                 reply  key=value lines, "errno=0\n\n"
//   request  "set=1\n" key=value... "\n"  reply  "errno=N\n\n"
//
// Keys travel as lowercase hex, endpoints as "a.b.c.d:port" or
// "[v6]:port", allowed IPs one "allowed_ip=addr/len" line each; a line
// "public_key=..." starts a peer. Pure core: BuildUapiSet / ParseUapiGet /
// ParseUapiErrno, no I/O. Shell: UapiClient, one connection per operation,
// as wg(8) does, bounded in time and size.
//
// Parsers never trust the daemon: a reply that is cut off, has a line
// without '=', a bad number, bad hex or a value of the wrong shape is
// kProtocol naming the key (never a key's value); "errno=N" with N != 0 is
// kIo with that errno. Unknown keys are skipped (newer daemons add some).
// Thread-compatible.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "qnet/base/result.h"
#include "qnet/vpn/device.h"

namespace qnet::vpn {

inline constexpr std::string_view kUapiGet = "get=1\n\n";

// "set=1\n" + the device's changes + "\n". The device's name is not part of
// the request (the socket names the interface). kInvalidArgument when a
// value cannot be expressed (none today; kept for symmetry with genl).
Result<std::string> BuildUapiSet(const Device& device);
// A whole get reply, up to and including its final blank line.
Result<Device> ParseUapiGet(std::string_view reply);
// A whole set reply: OK for "errno=0\n\n".
Status ParseUapiErrno(std::string_view reply);

// The socket wireguard-go creates for an interface.
std::string UapiSocketPath(std::string_view ifname, std::string_view dir = "/var/run/wireguard");

class UapiClient {
 public:
  // Operations connect to socket_path each time; each is bounded by timeout
  // (kTimeout) and a reply by kMaxReply bytes (kProtocol).
  static constexpr size_t kMaxReply = 16 << 20;
  explicit UapiClient(std::string socket_path,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : path_(std::move(socket_path)), timeout_(timeout) {}

  // kNotFound when nothing listens at the path (no such daemon/interface).
  Status SetDevice(const Device& device);
  Result<Device> GetDevice();
  const std::string& path() const { return path_; }

 private:
  Result<std::string> Exchange(std::string_view request);
  std::string path_;
  std::chrono::milliseconds timeout_;
};

}  // namespace qnet::vpn
