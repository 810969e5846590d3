#include "qnet/firewall/rule.h"

#include <fmt/format.h>

#include "rule_options.h"

namespace qnet::firewall {
namespace {

using internal::Field;
using internal::FieldInfo;

Error FieldError(Field field, const Error& e) { return e.Wrap(FieldInfo(field).name); }

Unexpected<Error> Invalid(Field field, std::string message) {
  return Fail(Errc::kInvalidArgument, fmt::format("{}: {}", FieldInfo(field).name, message));
}

Status ValidateDst(const Destination& dst) {
  if (const auto* prefix = std::get_if<IpPrefix>(&dst)) {
    int max = prefix->addr().is_v4() ? 32 : 128;
    if (prefix->len() < 0 || prefix->len() > max) {
      return Invalid(Field::kDst,
                     fmt::format("prefix length {} out of range 0-{}", prefix->len(), max));
    }
    Status s = internal::CheckNoHostBits(*prefix);
    if (!s) return FieldError(Field::kDst, s.error());
    return OkStatus();
  }
  Status s = internal::CheckHostname(std::get<Hostname>(dst).name);
  if (!s) return FieldError(Field::kDst, s.error());
  return OkStatus();
}

}  // namespace

std::string_view ActionName(Action a) { return a == Action::kAccept ? "accept" : "drop"; }

std::string_view ProtoName(Proto p) {
  switch (p) {
    case Proto::kTcp:
      return "tcp";
    case Proto::kUdp:
      return "udp";
    case Proto::kIcmp:
      return "icmp";
  }
  return "?";
}

bool IsIpv6Destination(const Rule& rule) {
  if (!rule.dst) return false;
  const auto* prefix = std::get_if<IpPrefix>(&*rule.dst);
  return prefix != nullptr && prefix->addr().is_v6();
}

bool IsExpired(const Rule& rule, int64_t now) { return rule.expire && *rule.expire <= now; }

Status Validate(const Rule& rule) {
  if (rule.dst) QNET_TRY(ValidateDst(*rule.dst));
  if (rule.dstports) {
    if (rule.dstports->lo > rule.dstports->hi) {
      return Invalid(Field::kDstPorts, fmt::format("range {}-{}: first port above last",
                                                   rule.dstports->lo, rule.dstports->hi));
    }
    if (rule.proto != Proto::kTcp && rule.proto != Proto::kUdp) {
      return Invalid(Field::kDstPorts, "valid only with proto=tcp or proto=udp");
    }
  }
  if (rule.icmptype && rule.proto != Proto::kIcmp) {
    return Invalid(Field::kIcmpType, "valid only with proto=icmp");
  }
  if (rule.expire && (*rule.expire < 0 || *rule.expire > internal::kMaxExpire)) {
    return Invalid(Field::kExpire,
                   fmt::format("{} is not a unix time up to the year 9999", *rule.expire));
  }
  if (rule.comment) {
    if (rule.comment->empty()) return Invalid(Field::kComment, "empty (leave it unset instead)");
    Status s = internal::CheckComment(*rule.comment);
    if (!s) return FieldError(Field::kComment, s.error());
  }
  return OkStatus();
}

std::string FormatRule(const Rule& rule) {
  std::string out;
  for (Field field : internal::KeywordOrder()) {
    const internal::FieldRow& row = FieldInfo(field);
    if (!row.is_set(rule)) continue;
    if (!out.empty()) out += ' ';
    out += row.keyword(rule);
  }
  return out;
}

}  // namespace qnet::firewall
