#include "qnet/vpn/lab_wireguard.h"

namespace qnet::vpn {

IpAddr LabWireguardPlan::ServerAddress() { return IpAddr::V4(203, 0, 113, 20); }
IpAddr LabWireguardPlan::ServerAddress6() { return *IpAddr::Parse("2001:db8:2::20"); }
IpAddr LabWireguardPlan::Egress() { return IpAddr::V4(203, 0, 113, 21); }
IpAddr LabWireguardPlan::Egress6() { return *IpAddr::Parse("2001:db8:2::21"); }
IpPrefix LabWireguardPlan::ServerTunnel() { return IpPrefix(IpAddr::V4(10, 66, 66, 1), 24); }
IpPrefix LabWireguardPlan::ServerTunnel6() { return *IpPrefix::Parse("fd66:66::1/64"); }
IpPrefix LabWireguardPlan::ClientTunnel() { return IpPrefix::Host(IpAddr::V4(10, 66, 66, 2)); }
IpPrefix LabWireguardPlan::ClientTunnel6() { return *IpPrefix::Parse("fd66:66::2/128"); }

Device LabWireguardPlan::ServerDevice(std::string_view ifname) const {
  Device d;
  d.name = std::string(ifname);
  d.private_key = server_private;
  d.listen_port = kPort;
  d.replace_peers = true;
  DevicePeer client;
  client.public_key = client_public;
  client.allowed_ips = {ClientTunnel(), ClientTunnel6()};
  client.replace_allowed_ips = true;
  d.peers.push_back(std::move(client));
  return d;
}

WgQuickConfig LabWireguardPlan::ClientConfig() const {
  WgQuickConfig c;
  c.interface.private_key = client_private;
  c.interface.addresses = {ClientTunnel(), ClientTunnel6()};
  c.interface.dns = {ServerTunnel().addr()};
  WgPeer server;
  server.public_key = server_public;
  server.endpoint = Endpoint{ServerAddress().ToString(), kPort};
  server.allowed_ips = {*IpPrefix::Parse("0.0.0.0/0"), *IpPrefix::Parse("::/0")};
  server.persistent_keepalive = 25;
  c.peers.push_back(std::move(server));
  return c;
}

Result<LabWireguardPlan> MakeLabWireguardPlan(const Key& server_private,
                                              const Key& client_private) {
  if (server_private == client_private)
    return Fail(Errc::kInvalidArgument, "lab wireguard: server and client share a key");
  LabWireguardPlan p;
  p.server_private = server_private;
  p.client_private = client_private;
  QNET_ASSIGN_OR_RETURN(p.server_public, PublicKeyOf(server_private));
  QNET_ASSIGN_OR_RETURN(p.client_public, PublicKeyOf(client_private));
  return p;
}

Result<LabWireguardPlan> GenerateLabWireguardPlan() {
  QNET_ASSIGN_OR_RETURN(Key server, GeneratePrivateKey());
  QNET_ASSIGN_OR_RETURN(Key client, GeneratePrivateKey());
  return MakeLabWireguardPlan(server, client);
}

}  // namespace qnet::vpn
