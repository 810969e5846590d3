// ChainSpec: a chain file parsed and checked, as plain values.
//
// A ChainSpec from ParseChainText/ParseChainFile satisfies every invariant
// listed on ParseChainText (names valid and unique, ids unique and in the
// plan, one net qube, every netvm known and providing network, no cycle).
// Equality compares content only, never source positions or the path: a
// chain written by FormatChainFile and parsed back compares equal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/config/value.h"
#include "qnet/qube/label.h"
#include "qnet/qube/qube.h"
#include "qnet/qube/role.h"

namespace qnet::config {

enum class Ipv6Mode {
  kOff,     // "off": IPv6 is dropped at every hop and disabled on every link
  kRouted,  // "routed": IPv6 goes through the same chain with the same rules
};

// "off" or "routed".
std::string_view Ipv6ModeName(Ipv6Mode mode);
// Parses "off" or "routed"; the error lists both.
Result<Ipv6Mode> ParseIpv6Mode(std::string_view text);

// The [lab] table: present means the chain runs against qnet's simulated
// internet. It defines no keys yet; keys holds them for when it does.
struct LabSpec {
  SourcePos pos;  // the [lab] header
  Value::Table keys;

  bool operator==(const LabSpec& o) const { return keys == o.keys; }
};

// One [qube.NAME] table.
struct QubeSpec {
  std::string name;
  SourcePos pos;  // the [qube.NAME] header (or its first key)
  qube::Role role = qube::Role::kApp;
  qube::Label label = qube::Label::kRed;
  std::optional<std::string> netvm;
  // `template`: the qube's root filesystem. Empty: "host" (a view of the
  // host's /usr and an assembled /etc); an absolute directory holding a root
  // tree; or the name of a template qnet built (`qnet template create`,
  // under the state directory's templates/).
  std::string template_dir;
  // `dispvm = true`: a named disposable (Qubes' DispVM with a name): its
  // address is in 10.138, it starts with fresh storage at `up` and its
  // storage is discarded at `down`.
  bool dispvm = false;
  uint32_t id = 0;           // explicit, or assigned by the parser
  bool id_explicit = false;  // true when the file gave `id`
  Value::Table extra;        // role keys (see KeyRegistry), in file order

  // Positions of the core keys' values, for errors found after parsing.
  SourcePos role_pos;
  SourcePos netvm_pos;
  SourcePos id_pos;
  SourcePos template_pos;

  // The role key `key`, or nullptr.
  const Value* FindExtra(std::string_view key) const;

  // Compares everything but positions.
  bool operator==(const QubeSpec& o) const;
};

struct ChainSpec {
  std::string name;
  Ipv6Mode ipv6 = Ipv6Mode::kOff;
  std::optional<LabSpec> lab;
  std::vector<QubeSpec> qubes;  // in file order
  std::string source_path;      // as given to the parser ("" when built in code)

  // The qube named name, or nullptr.
  const QubeSpec* FindQube(std::string_view name) const;
  QubeSpec* FindQube(std::string_view name);

  // Compares name, ipv6, lab and qubes; not source_path.
  bool operator==(const ChainSpec& o) const;
};

}  // namespace qnet::config
