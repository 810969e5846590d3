// FormatWgQuick and the Endpoint helpers: the canonical text of a config,
// which ParseWgQuick reads back equal.
#include <fmt/ranges.h>

#include "qnet/vpn/wg_quick.h"

namespace qnet::vpn {

std::optional<IpAddr> Endpoint::Address() const {
  auto addr = IpAddr::Parse(host);
  if (!addr) return std::nullopt;
  return *addr;
}

std::string Endpoint::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

namespace {

std::string OffOr(uint32_t v, bool hex) {
  if (v == 0) return "off";
  return hex ? fmt::format("0x{:x}", v) : fmt::format("{}", v);
}

void FormatInterface(const WgInterface& i, std::string& out) {
  out += "[Interface]\n";
  out += fmt::format("PrivateKey = {}\n", i.private_key.ToBase64());
  if (!i.addresses.empty()) out += fmt::format("Address = {}\n", fmt::join(i.addresses, ", "));
  std::vector<std::string> dns;
  for (const IpAddr& a : i.dns) dns.push_back(a.ToString());
  dns.insert(dns.end(), i.dns_search.begin(), i.dns_search.end());
  if (!dns.empty()) out += fmt::format("DNS = {}\n", fmt::join(dns, ", "));
  if (i.mtu) out += fmt::format("MTU = {}\n", *i.mtu);
  if (i.listen_port) out += fmt::format("ListenPort = {}\n", *i.listen_port);
  if (i.fwmark) out += fmt::format("FwMark = {}\n", OffOr(*i.fwmark, true));
}

void FormatPeer(const WgPeer& p, std::string& out) {
  out += "\n[Peer]\n";
  out += fmt::format("PublicKey = {}\n", p.public_key.ToBase64());
  if (p.preshared_key) out += fmt::format("PresharedKey = {}\n", p.preshared_key->ToBase64());
  out += fmt::format("Endpoint = {}\n", p.endpoint.ToString());
  if (!p.allowed_ips.empty())
    out += fmt::format("AllowedIPs = {}\n", fmt::join(p.allowed_ips, ", "));
  if (p.persistent_keepalive)
    out += fmt::format("PersistentKeepalive = {}\n", OffOr(*p.persistent_keepalive, false));
}

}  // namespace

std::string FormatWgQuick(const WgQuickConfig& config) {
  std::string out;
  FormatInterface(config.interface, out);
  for (const WgPeer& p : config.peers) FormatPeer(p, out);
  return out;
}

}  // namespace qnet::vpn
