// KeyRegistry: the role keys a chain file may hold, and who validates them.
//
// Core knows only role, label, netvm and id. Every other key of a
// [qube.NAME] table belongs to a role module (`firewall` to the firewall
// module, `wireguard` to vpn-proxy, ...), which registers it here with the
// roles that may carry it and a validator. The composition root (qnetd, the
// CLI) fills one registry from the modules and passes it to ParseChainFile;
// the parser then refuses any key no row names.
//
// Not synchronised: fill it once, then share it read-only.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/config/value.h"
#include "qnet/qube/role.h"

namespace qnet::config {

// Checks one key's value. `value` carries its own position (value.pos());
// `key_pos` is where the key is written. Returns OkStatus, or an Error whose
// message is the bare complaint ("rule 2: unknown action 'acept'"). The
// parser reports it as
//   <key_pos>: qube.<name>.<key>: <message>
// so a validator neither repeats the key nor formats positions (it may name
// an element's line, e.g. from value.as_array()[1].pos().line).
// Must be pure (no I/O): it runs on every parse, also for `qnet check`.
using KeyValidator = std::function<Status(const Value& value, const SourcePos& key_pos)>;

struct KeyRule {
  std::string key;             // e.g. "firewall"; a bare TOML key
  std::set<qube::Role> roles;  // roles whose qubes may have the key
  bool any_networked = false;  // or: any qube that has a netvm (every role but net)
  KeyValidator validate;       // may be empty: any value is accepted

  // True when a qube of `role` may carry this key.
  bool AllowsRole(qube::Role role) const;
  // "app, vpn" or "any qube with a netvm" (for error messages).
  std::string AllowedDescription() const;
};

class KeyRegistry {
 public:
  // Adds a row. kAlreadyExists if the key is registered already;
  // kInvalidArgument if it is a core key (role, label, netvm, id), not a bare
  // TOML key ([A-Za-z0-9_-]+), or allows no role at all.
  Status Add(KeyRule rule);

  // The row for key, or nullptr.
  const KeyRule* Find(std::string_view key) const;

  // Every row, in the order added.
  const std::vector<KeyRule>& rules() const { return rules_; }

 private:
  std::vector<KeyRule> rules_;
};

// The per-qube keys core itself handles, in the order FormatChainFile writes them.
inline constexpr std::string_view kCoreQubeKeys[] = {"role",  "label",    "id",
                                                     "netvm", "template", "dispvm"};

}  // namespace qnet::config
