#include "qnet/vpn/device.h"

namespace qnet::vpn {

std::string SocketAddr::ToString() const {
  if (addr.is_v6()) return fmt::format("[{}]:{}", addr, port);
  return fmt::format("{}:{}", addr, port);
}

Result<Device> DeviceFromConfig(const WgQuickConfig& config, std::string_view ifname,
                                const std::vector<SocketAddr>& endpoints) {
  if (endpoints.size() != config.peers.size())
    return Fail(Errc::kInvalidArgument, fmt::format("{} resolved endpoints for {} peers",
                                                    endpoints.size(), config.peers.size()));
  Device d;
  d.name = std::string(ifname);
  d.private_key = config.interface.private_key;
  d.listen_port = config.interface.listen_port;
  d.fwmark = config.interface.fwmark;
  d.replace_peers = true;
  for (size_t i = 0; i < config.peers.size(); ++i) {
    const WgPeer& p = config.peers[i];
    DevicePeer out;
    out.public_key = p.public_key;
    out.preshared_key = p.preshared_key.value_or(Key());
    out.endpoint = endpoints[i];
    out.persistent_keepalive = p.persistent_keepalive.value_or(0);
    out.allowed_ips = p.allowed_ips;
    out.replace_allowed_ips = true;
    d.peers.push_back(std::move(out));
  }
  return d;
}

}  // namespace qnet::vpn
