// The sample policy of the firewall's golden tests: four clients whose
// lists hold every rule kind (hostnames that resolve and that do not, both
// actions, expiring accept and drop, specialtarget=dns, ICMP, IPv6 networks,
// the default list, a client without IPv6). The unit tests compile it at a
// fixed time; the netns tests compile it at the kernel's time and load it.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/ip.h"
#include "qnet/firewall/compiler.h"
#include "qnet/firewall/rule_list.h"

namespace qnet::firewall::testing {

inline IpAddr Ip(std::string_view s) { return *IpAddr::Parse(s); }

// No lines: the default list (accept), as for a qube never given rules.
inline RuleList Rules(std::vector<std::string> lines, int64_t now) {
  if (lines.empty()) return RuleList();
  auto list = RuleList::Parse(lines, now);
  EXPECT_TRUE(list.has_value()) << list.error().message();
  return list.has_value() ? *list : RuleList();
}

// Client `id` at 10.137.0.<id> (and fd09:24ef:4179::a89:<id> with v6) on vif<id>.0.
inline Client MakeClient(std::string name, uint32_t id, std::vector<std::string> rules, int64_t now,
                         bool v6 = true) {
  Client c;
  c.name = std::move(name);
  c.id = id;
  c.ipv4 = IpAddr::V4(10, 137, 0, static_cast<uint8_t>(id));
  if (v6) c.ipv6 = Ip(fmt::format("fd09:24ef:4179::a89:{:x}", id));
  c.vif = fmt::format("vif{}.0", id);
  c.rules = Rules(std::move(rules), now);
  return c;
}

// `expire=+N` is anchored at `now`.
inline std::vector<Client> SampleClients(int64_t now) {
  return {
      MakeClient("work", 12,
                 {"accept dsthost=web.lab proto=tcp dstports=80-443 comment=the web",
                  "accept specialtarget=dns", "accept 203.0.113.0/24 icmp 8", "accept proto=icmp",
                  "drop dst6=2001:db8:2::/64", "accept dst4=203.0.113.53 udp 53 expire=+600",
                  "drop dst4=203.0.113.0/24 proto=tcp dstports=22 expire=+60",
                  "accept dsthost=gone.lab", "drop proto=udp dstports=7", "accept 198.51.100.1"},
                 now),
      MakeClient("anon", 13, {}, now),
      MakeClient(
          "mail", 14,
          {"accept dsthost=mail.lab proto=tcp dstports=993", "drop dsthost=missing.lab", "accept"},
          now, false),
      MakeClient("old", 15, {"accept expire=1600000000", "accept specialtarget=dns proto=icmp"},
                 now),
  };
}

// A fifth client whose drop rule names a hostname that resolves (its sets
// never time out), for the tests that load the policy into the kernel.
inline Client DropHostClient(int64_t now) {
  return MakeClient("block", 16,
                    {"drop dsthost=web.lab proto=tcp dstports=7", "drop dsthost=mail.lab",
                     "accept dsthost=web.lab expire=+3600", "accept"},
                    now);
}

inline Resolutions SampleNames() {
  Resolutions names;
  names["web.lab"] = Resolution{true,
                                {{Ip("203.0.113.10"), std::chrono::seconds(30)},
                                 {Ip("2001:db8:2::10"), std::chrono::seconds(7200)}},
                                ""};
  names["mail.lab"] = Resolution{true, {{Ip("203.0.113.25"), std::chrono::seconds(300)}}, ""};
  names["missing.lab"] = Resolution{false, {}, "NXDOMAIN"};
  return names;
}

}  // namespace qnet::firewall::testing
