// Any bytes as a WireGuard generic netlink message from the kernel: the
// parser returns a Device or an Error without reading out of bounds, and a
// device it accepts encodes to set messages that parse back to the same
// configuration.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "qnet/vpn/wg_genl.h"

namespace {

// Only what a set carries: state reported by a get is not sent back.
qnet::vpn::Device SetPart(qnet::vpn::Device d) {
  d.ifindex = 0;
  d.public_key.reset();
  for (auto& p : d.peers) {
    p.last_handshake_sec = p.last_handshake_nsec = 0;
    p.rx_bytes = p.tx_bytes = 0;
  }
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Netlink messages are 4-byte aligned in the kernel's buffers.
  std::vector<uint32_t> aligned((size + 3) / 4);
  if (size > 0) std::memcpy(aligned.data(), data, size);
  const auto* bytes = reinterpret_cast<const uint8_t*>(aligned.data());
  qnet::vpn::Device device;
  if (!qnet::vpn::ParseDeviceMessage(bytes, size, device).ok()) return 0;
  auto msgs = qnet::vpn::BuildSetDevice(0x20, device, 1024);
  if (!msgs) return 0;  // a name or peer list the encoder refuses
  qnet::vpn::Device back;
  for (const auto& m : *msgs)
    if (!qnet::vpn::ParseDeviceMessage(m.data(), m.size(), back).ok()) std::abort();
  if (!(SetPart(back) == SetPart(device))) std::abort();
  return 0;
}
