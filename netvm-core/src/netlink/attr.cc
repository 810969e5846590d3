#include "attr.h"

#include <sys/socket.h>

#include <array>
#include <cstring>

namespace qnet::netlink::internal {
namespace {

struct IndexCtx {
  AttrTable* table;
};

int StoreAttr(const nlattr* attr, void* data) {
  auto* table = static_cast<IndexCtx*>(data)->table;
  uint16_t type = mnl_attr_get_type(attr);
  if (type < table->size()) (*table)[type] = attr;
  return MNL_CB_OK;
}

}  // namespace

Result<AttrTable> IndexAttrs(const nlmsghdr* nlh, size_t header_len, uint16_t max_type) {
  if (nlh->nlmsg_len < mnl_nlmsg_size(header_len))
    return Fail(Errc::kProtocol, fmt::format("netlink message type {} truncated ({} bytes)",
                                             nlh->nlmsg_type, nlh->nlmsg_len));
  AttrTable table(max_type + 1u, nullptr);
  IndexCtx ctx{&table};
  mnl_attr_parse(nlh, static_cast<unsigned>(header_len), StoreAttr, &ctx);
  return table;
}

AttrTable IndexNested(const nlattr* attr, uint16_t max_type) {
  AttrTable table(max_type + 1u, nullptr);
  IndexCtx ctx{&table};
  mnl_attr_parse_nested(attr, StoreAttr, &ctx);
  return table;
}

Result<uint32_t> AttrU32(const nlattr* attr, const char* what) {
  if (mnl_attr_get_payload_len(attr) != sizeof(uint32_t))
    return Fail(Errc::kProtocol, fmt::format("netlink attribute {} of {} bytes, want 4", what,
                                             mnl_attr_get_payload_len(attr)));
  return mnl_attr_get_u32(attr);
}

std::string AttrString(const nlattr* attr) {
  const char* p = static_cast<const char*>(mnl_attr_get_payload(attr));
  size_t len = mnl_attr_get_payload_len(attr);
  return std::string(p, strnlen(p, len));
}

Result<IpAddr> AttrIp(const nlattr* attr, int family, const char* what) {
  size_t len = mnl_attr_get_payload_len(attr);
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
  if (family == AF_INET && len == 4) return IpAddr::V4(p[0], p[1], p[2], p[3]);
  if (family == AF_INET6 && len == 16) {
    std::array<uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), p, bytes.size());
    return IpAddr::V6(bytes);
  }
  return Fail(Errc::kProtocol, fmt::format("netlink attribute {}: {} bytes for address family {}",
                                           what, len, family));
}

void PutIp(nlmsghdr* nlh, uint16_t type, const IpAddr& addr) {
  mnl_attr_put(nlh, type, addr.size(), addr.data());
}

}  // namespace qnet::netlink::internal
