// Host uid/gid ranges for qubes' user namespaces.
//
// Each qube's user namespace maps its ids 0..kQubeIdCount-1 onto a host
// range [base, base + kQubeIdCount) that belongs to that qube alone. Ranges
// are slots above kFirstIdBase; a slot is taken by creating
// <registry>/<slot> with O_EXCL (content "<instance>/<qube>\n"), and the
// qube's state directory records its slot so a persistent home keeps its
// owner across `qnet down`/`up`. A slot whose owner no longer records it
// (state deleted by hand) is taken over. Slots overlapping /etc/subuid,
// /etc/subgid or an id of /etc/passwd or /etc/group are never handed out.
//
// Not thread-safe within one process (callers serialize); safe across
// processes (O_EXCL). Errors name the file and carry the errno.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qnet/base/result.h"

namespace qnet::runtime {

inline constexpr uint32_t kQubeIdCount = 65536;
// Well above any distribution's user ranges and below 2^31 (tools that
// print ids as signed ints stay correct).
inline constexpr uint32_t kFirstIdBase = 1u << 30;
inline constexpr uint32_t kIdSlotCount = 16384;
// The qube's unprivileged user, as in Qubes.
inline constexpr uid_t kQubeUserId = 1000;

// Host id ranges [first, first + count) that qubes must never use.
struct IdInterval {
  uint64_t first = 0;
  uint64_t count = 0;
};

// Parses /etc/subuid-style text ("name:first:count" lines) and
// /etc/passwd-style text (id in field `id_field`, 0-based) into intervals.
// Malformed lines are skipped (they reserve nothing the kernel would use).
std::vector<IdInterval> ParseSubIdRanges(std::string_view text);
std::vector<IdInterval> ParseIdColumn(std::string_view text, int id_field);

// The base of a slot and whether it overlaps any reserved interval. Pure.
inline uint32_t SlotBase(uint32_t slot) { return kFirstIdBase + slot * kQubeIdCount; }
bool SlotOverlaps(uint32_t slot, const std::vector<IdInterval>& reserved);

struct IdRangePaths {
  // Global across instances: one file per slot in use.
  std::string registry_dir = "/var/lib/qnet/.id-slots";
  // Instances' state directories live under it: <state_root>/<instance>.
  std::string state_root = "/var/lib/qnet";
  std::string instance;
  std::string qube;
  std::vector<std::string> reserved_files = {"/etc/subuid", "/etc/subgid", "/etc/passwd",
                                             "/etc/group"};

  std::string qube_dir() const { return state_root + "/" + instance + "/qubes/" + qube; }
  // The qube's record of its slot.
  std::string owner_file() const { return qube_dir() + "/idslot"; }
  std::string owner() const { return instance + "/" + qube; }
};

// The qube's slot: the one it recorded if the registry still names it,
// otherwise a free one (recorded in both places). kUnavailable when
// every slot is taken.
Result<uint32_t> AcquireIdSlot(const IdRangePaths& paths);
// Frees the qube's slot and its record. Idempotent.
Status ReleaseIdSlot(const IdRangePaths& paths);

}  // namespace qnet::runtime
