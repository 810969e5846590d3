// Disposable qubes in the plan (Qubes' DispVMs): `qnet dispvm -- CMD` adds
// one to the running chain's plan for the command's lifetime and removes it
// after. Pure: no I/O, unit-tested without root.
//
// As in Qubes a disposable has two numbers: a qube id (`qid`, the lowest id
// no qube of the plan uses: it names its link `vif<qid>.0` and its firewall
// objects at the netvm) and a disposable id (`dispid`, 1..9999, drawn at
// random as Qubes' _get_dispid does) that names it `disp<dispid>` and gives
// its addresses in Qubes' disposable range: 10.138.x.y and
// fd09:24ef:4179::a8a:<dispid>. Neither is reused while the disposable
// lives. A named disposable of the chain file (`dispvm = true`) uses its id
// for both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "qnet/base/result.h"
#include "qnet/chain/plan.h"
#include "qnet/firewall/rule_list.h"
#include "qnet/qube/label.h"

namespace qnet::chain {

// Qubes draws disposable ids from 1..9999 (names disp1..disp9999).
inline constexpr uint32_t kMaxDispId = 9999;

struct DispIds {
  uint32_t qid = 0;
  uint32_t dispid = 0;
};

// "disp<dispid>".
std::string DisposableName(uint32_t dispid);

// Ids for a new disposable next to everything `plan` holds (its qubes, named
// disposables and live disposables included): qid the lowest id in use by
// none; dispid the first free one at or after 1 + random % kMaxDispId
// (wrapping), skipping ids whose name a qube already has. kUnavailable when
// every dispid (or qid) is taken.
Result<DispIds> PickDisposableIds(const Plan& plan, uint64_t random);

// What `qnet dispvm` asks for.
struct DisposableSpec {
  // The netvm; nullopt: none (no network at all).
  std::optional<std::string> netvm;
  qube::Label label = qube::Label::kRed;
  std::string template_dir;        // as config::QubeSpec::template_dir ("" = host)
  bool template_writable = false;  // the tree itself is its / (`qnet template run`)
  // Its firewall list at the netvm; nullopt: the default (accept), as a new
  // qube gets in Qubes.
  std::optional<firewall::RuleList> firewall;
};

// Adds the disposable to the plan: its QubePlan (role app, marked
// disposable), its link and its client entry (address, vif, firewall list)
// at the netvm's plan. kNotFound when the netvm is not in the plan,
// kInvalidArgument when it provides no network, kFailedPrecondition when
// the netvm refuses the list (a tor gateway takes only the default).
// Nothing changes on error. Returns the new QubePlan (valid until the plan
// changes).
Result<const QubePlan*> AddDisposable(Plan& plan, const DisposableSpec& spec, const DispIds& ids);

// Removes a disposable added by AddDisposable (and its entries at its
// netvm). kNotFound if `name` is not a disposable of the plan; a chain
// qube is never removed (kInvalidArgument).
Status RemoveDisposable(Plan& plan, const std::string& name);

}  // namespace qnet::chain
