#include "qnet/config/chain_spec.h"

#include <fmt/format.h>

namespace qnet::config {

std::string_view Ipv6ModeName(Ipv6Mode mode) {
  return mode == Ipv6Mode::kRouted ? "routed" : "off";
}

Result<Ipv6Mode> ParseIpv6Mode(std::string_view text) {
  if (text == "off") return Ipv6Mode::kOff;
  if (text == "routed") return Ipv6Mode::kRouted;
  return Fail(Errc::kInvalidArgument,
              fmt::format("unknown ipv6 mode '{}' (valid: off, routed)", text));
}

const Value* QubeSpec::FindExtra(std::string_view key) const {
  const Value::Member* m = FindMember(extra, key);
  return m ? &m->value : nullptr;
}

bool QubeSpec::operator==(const QubeSpec& o) const {
  return name == o.name && role == o.role && label == o.label && netvm == o.netvm &&
         template_dir == o.template_dir && dispvm == o.dispvm && id == o.id &&
         id_explicit == o.id_explicit && extra == o.extra;
}

const QubeSpec* ChainSpec::FindQube(std::string_view qube_name) const {
  for (const QubeSpec& q : qubes) {
    if (q.name == qube_name) return &q;
  }
  return nullptr;
}

QubeSpec* ChainSpec::FindQube(std::string_view qube_name) {
  for (QubeSpec& q : qubes) {
    if (q.name == qube_name) return &q;
  }
  return nullptr;
}

bool ChainSpec::operator==(const ChainSpec& o) const {
  return name == o.name && ipv6 == o.ipv6 && lab == o.lab && qubes == o.qubes;
}

}  // namespace qnet::config
