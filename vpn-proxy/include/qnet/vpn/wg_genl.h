// The kernel backend: WireGuard's generic netlink family ("wireguard",
// version 1, <linux/wireguard.h>), with the semantics of wireguard-tools'
// embeddable library.
//
// Pure core: messages built from a Device and parsed back into one, with no
// I/O. A set operation that does not fit in one message is split as the
// kernel requires: the first message carries the device attributes, every
// later one only the interface name and peers; a peer whose allowed IPs
// overflow is continued in the next message under its public key again,
// without WGPEER_F_REPLACE_ALLOWEDIPS and its other attributes, so the
// kernel appends instead of replacing. A get is a dump whose messages each
// repeat the device and carry some peers; a peer continued from the previous
// message (same public key first) has its allowed IPs appended.
//
// Shell: KernelWg resolves the family id over a NETLINK_GENERIC socket and
// sends. This machine's kernel has no WireGuard: the family is missing and
// creating a wireguard link fails; both come back as kUnavailable with a
// message that says so. Not thread-safe (one socket, one thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/netlink/socket.h"
#include "qnet/vpn/device.h"

namespace qnet::vpn {

// One netlink message (nlmsghdr first, length in it), seq 0 until sent.
using NlMessage = std::vector<uint8_t>;

// The embeddable library's message buffer (MNL_SOCKET_BUFFER_SIZE here).
inline constexpr size_t kWgMaxMessage = 4096;

// CTRL_CMD_GETFAMILY for "wireguard" and its reply's family id
// (kNotFound when the reply carries none, kProtocol when malformed).
NlMessage BuildGetFamily();
Result<uint16_t> ParseFamilyId(const uint8_t* msg, size_t len);

// WG_CMD_SET_DEVICE messages (NLM_F_REQUEST|NLM_F_ACK), each at most
// max_message bytes. kInvalidArgument for a bad interface name, two peers
// with one public key, or max_message too small for one peer's header.
Result<std::vector<NlMessage>> BuildSetDevice(uint16_t family, const Device& device,
                                              size_t max_message = kWgMaxMessage);
// WG_CMD_GET_DEVICE dump request for one interface by name.
Result<NlMessage> BuildGetDevice(uint16_t family, std::string_view ifname);

// Folds one WG_CMD_GET_DEVICE reply (or a WG_CMD_SET_DEVICE request, for
// tests) into `device`, continuing the last peer when the message starts
// with it. kProtocol for a truncated or malformed message; attributes of
// unknown types are skipped, as the embeddable library does.
Status ParseDeviceMessage(const uint8_t* msg, size_t len, Device& device);

class KernelWg {
 public:
  // Resolves the family in the socket's namespace (a NETLINK_GENERIC
  // socket). kUnavailable "no WireGuard in this kernel ..." when absent.
  static Result<KernelWg> Open(netlink::Socket sock);

  // Sends every message of BuildSetDevice and waits for each ACK; stops at
  // the first error (earlier messages stay applied, as with `wg setconf`).
  // kNotFound when the interface does not exist.
  Status SetDevice(const Device& device);
  Result<Device> GetDevice(std::string_view ifname);

  uint16_t family() const { return family_; }

 private:
  KernelWg(netlink::Socket sock, uint16_t family) : sock_(std::move(sock)), family_(family) {}
  netlink::Socket sock_;
  uint16_t family_;
};

// Creates a wireguard link (down) through a NETLINK_ROUTE socket. kUnavailable
// "no WireGuard in this kernel ..." when the kernel does not know the link
// kind (no module); kAlreadyExists when the name is taken.
Status CreateWireguardLink(netlink::Socket& rtnl, std::string_view ifname);

}  // namespace qnet::vpn
