// Qube: the value that describes one qube of a chain. Plain data; copy freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"
#include "qnet/qube/label.h"
#include "qnet/qube/role.h"

namespace qnet::qube {

// Longest qube name Qubes accepts (names must be shorter than 32 characters).
inline constexpr size_t kMaxQubeNameLength = 31;

// Qubes' validate_name: 1 to 31 characters, [a-zA-Z][a-zA-Z0-9_.-]*, not
// "none", "default", "dom0" or "Domain-0", not ending in "-dm". Returns
// kInvalidArgument naming the name and the rule it breaks, e.g.
//   invalid qube name '9lives': must start with a letter
Status ValidateQubeName(std::string_view name);

struct Qube {
  std::string name;
  uint32_t id = 0;  // kMinQubeId..kMaxQubeId once validated
  Role role = Role::kApp;
  Label label = Label::kRed;
  std::optional<std::string> netvm;  // the qube this one reaches the network through
  bool disposable = false;           // addresses under 10.138 / ::a8a

  // The qube's own addresses (address.h); errors as ValidateQubeId.
  Result<IpAddr> Ipv4() const;
  Result<IpAddr> Ipv6() const;

  // Checks what one qube can check alone: the name, the id range, and that a
  // net qube has no netvm while any other role has one. Whether the netvm
  // exists is the chain's business (config::ParseChainText).
  Status Validate() const;

  bool operator==(const Qube&) const = default;
};

}  // namespace qnet::qube
