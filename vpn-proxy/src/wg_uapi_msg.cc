// The pure half of wg_uapi.h: set requests written, get replies parsed.
#include <charconv>

#include "qnet/vpn/wg_uapi.h"

namespace qnet::vpn {
namespace {

Unexpected<Error> Bad(std::string_view key, std::string_view what) {
  return Fail(Errc::kProtocol, fmt::format("wireguard UAPI reply: {}: {}", key, what));
}

Result<uint64_t> Number(std::string_view key, std::string_view v, uint64_t max) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n > max)
    return Bad(key, fmt::format("not a number up to {}", max));
  return n;
}

Result<Key> HexKey(std::string_view key, std::string_view v) {
  auto k = Key::FromHex(v);
  if (!k) return Bad(key, k.error().message());
  return *k;
}

Result<SocketAddr> ParseEndpoint(std::string_view v) {
  std::string_view host;
  std::string_view port;
  if (!v.empty() && v.front() == '[') {
    const size_t close = v.find("]:");
    if (close == std::string_view::npos) return Bad("endpoint", "not [address]:port");
    host = v.substr(1, close - 1);
    port = v.substr(close + 2);
  } else {
    const size_t colon = v.rfind(':');
    if (colon == std::string_view::npos) return Bad("endpoint", "not address:port");
    host = v.substr(0, colon);
    port = v.substr(colon + 1);
  }
  auto addr = IpAddr::Parse(host);
  if (!addr || (v.front() == '[') != addr->is_v6()) return Bad("endpoint", "not an address");
  QNET_ASSIGN_OR_RETURN(uint64_t p, Number("endpoint", port, 65535));
  return SocketAddr{*addr, static_cast<uint16_t>(p)};
}

void Line(std::string& out, std::string_view key, std::string_view value) {
  out += key;
  out += '=';
  out += value;
  out += '\n';
}

void PeerLines(std::string& out, const DevicePeer& p) {
  Line(out, "public_key", p.public_key.ToHex());
  if (p.remove) {
    Line(out, "remove", "true");
    return;
  }
  if (p.update_only) Line(out, "update_only", "true");
  if (p.preshared_key) Line(out, "preshared_key", p.preshared_key->ToHex());
  if (p.endpoint) Line(out, "endpoint", p.endpoint->ToString());
  if (p.persistent_keepalive)
    Line(out, "persistent_keepalive_interval", fmt::format("{}", *p.persistent_keepalive));
  if (p.replace_allowed_ips) Line(out, "replace_allowed_ips", "true");
  for (const IpPrefix& ip : p.allowed_ips) Line(out, "allowed_ip", ip.ToString());
  if (p.protocol_version != 0) Line(out, "protocol_version", fmt::format("{}", p.protocol_version));
}

// One key=value of a get reply applied to the device or its last peer.
Status ApplyPeerKey(std::string_view key, std::string_view v, DevicePeer& p) {
  if (key == "preshared_key") {
    QNET_ASSIGN_OR_RETURN(Key k, HexKey(key, v));
    p.preshared_key = k;
  } else if (key == "endpoint") {
    QNET_ASSIGN_OR_RETURN(p.endpoint, ParseEndpoint(v));
  } else if (key == "last_handshake_time_sec") {
    QNET_ASSIGN_OR_RETURN(uint64_t n, Number(key, v, INT64_MAX));
    p.last_handshake_sec = static_cast<int64_t>(n);
  } else if (key == "last_handshake_time_nsec") {
    QNET_ASSIGN_OR_RETURN(uint64_t n, Number(key, v, 999'999'999));
    p.last_handshake_nsec = static_cast<int64_t>(n);
  } else if (key == "rx_bytes") {
    QNET_ASSIGN_OR_RETURN(p.rx_bytes, Number(key, v, UINT64_MAX));
  } else if (key == "tx_bytes") {
    QNET_ASSIGN_OR_RETURN(p.tx_bytes, Number(key, v, UINT64_MAX));
  } else if (key == "persistent_keepalive_interval") {
    QNET_ASSIGN_OR_RETURN(uint64_t n, Number(key, v, 65535));
    p.persistent_keepalive = static_cast<uint16_t>(n);
  } else if (key == "protocol_version") {
    QNET_ASSIGN_OR_RETURN(uint64_t n, Number(key, v, UINT32_MAX));
    p.protocol_version = static_cast<uint32_t>(n);
  } else if (key == "allowed_ip") {
    auto ip = IpPrefix::Parse(v);
    if (!ip || v.find('/') == std::string_view::npos) return Bad(key, "not address/length");
    p.allowed_ips.push_back(*ip);
  }
  return OkStatus();
}

bool IsPeerKey(std::string_view key) {
  for (std::string_view k :
       {"preshared_key", "endpoint", "last_handshake_time_sec", "last_handshake_time_nsec",
        "rx_bytes", "tx_bytes", "persistent_keepalive_interval", "protocol_version", "allowed_ip"})
    if (key == k) return true;
  return false;
}

// The body (lines before the final blank line) and the errno it ends with.
Result<std::string_view> Body(std::string_view reply, int& err) {
  if (reply.size() < 2 || !reply.ends_with("\n\n") ||
      reply.substr(0, reply.size() - 1).find("\n\n") != std::string_view::npos) {
    if (reply.find("\n\n") == std::string_view::npos)
      return Fail(Errc::kProtocol, "wireguard UAPI reply: cut off (no blank line at the end)");
    return Fail(Errc::kProtocol, "wireguard UAPI reply: bytes after the final blank line");
  }
  std::string_view body = reply.substr(0, reply.size() - 1);  // keep the last '\n'
  const size_t last = body.rfind('\n', body.size() - 2);
  const std::string_view tail =
      body.substr(last == std::string_view::npos ? 0 : last + 1, std::string_view::npos);
  if (!tail.starts_with("errno="))
    return Fail(Errc::kProtocol, "wireguard UAPI reply: does not end with errno=");
  QNET_ASSIGN_OR_RETURN(uint64_t n, Number("errno", tail.substr(6, tail.size() - 7), 4095));
  err = static_cast<int>(n);
  return body.substr(0, last == std::string_view::npos ? 0 : last + 1);
}

}  // namespace

std::string UapiSocketPath(std::string_view ifname, std::string_view dir) {
  return fmt::format("{}/{}.sock", dir, ifname);
}

Result<std::string> BuildUapiSet(const Device& d) {
  std::string out = "set=1\n";
  if (d.private_key) Line(out, "private_key", d.private_key->ToHex());
  if (d.listen_port) Line(out, "listen_port", fmt::format("{}", *d.listen_port));
  if (d.fwmark) Line(out, "fwmark", fmt::format("{}", *d.fwmark));
  if (d.replace_peers) Line(out, "replace_peers", "true");
  for (const DevicePeer& p : d.peers) PeerLines(out, p);
  out += '\n';
  return out;
}

Status ParseUapiErrno(std::string_view reply) {
  int err = 0;
  QNET_ASSIGN_OR_RETURN(std::string_view body, Body(reply, err));
  if (err != 0) return Fail(ErrnoError("wireguard UAPI set", err));
  if (!body.empty()) return Fail(Errc::kProtocol, "wireguard UAPI reply: lines before errno");
  return OkStatus();
}

Result<Device> ParseUapiGet(std::string_view reply) {
  int err = 0;
  QNET_ASSIGN_OR_RETURN(std::string_view body, Body(reply, err));
  if (err != 0) return Fail(ErrnoError("wireguard UAPI get", err));
  Device d;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl + 1);  // Body() ends in '\n'
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return Fail(Errc::kProtocol, "wireguard UAPI reply: a line without key=value");
    const std::string_view key = line.substr(0, eq);
    const std::string_view v = line.substr(eq + 1);
    if (key == "public_key") {
      DevicePeer p;
      QNET_ASSIGN_OR_RETURN(p.public_key, HexKey(key, v));
      d.peers.push_back(std::move(p));
    } else if (IsPeerKey(key)) {
      if (d.peers.empty()) return Bad(key, "before any public_key");
      QNET_TRY(ApplyPeerKey(key, v, d.peers.back()));
    } else if (key == "private_key") {
      QNET_ASSIGN_OR_RETURN(Key k, HexKey(key, v));
      d.private_key = k;
    } else if (key == "listen_port") {
      QNET_ASSIGN_OR_RETURN(uint64_t n, Number(key, v, 65535));
      d.listen_port = static_cast<uint16_t>(n);
    } else if (key == "fwmark") {
      QNET_ASSIGN_OR_RETURN(uint64_t n, Number(key, v, UINT32_MAX));
      d.fwmark = static_cast<uint32_t>(n);
    }
  }
  return d;
}

}  // namespace qnet::vpn
