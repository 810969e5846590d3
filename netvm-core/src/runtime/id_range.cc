#include "qnet/runtime/id_range.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <set>

#include "qnet/base/fd.h"

namespace qnet::runtime {
namespace {

std::vector<std::string_view> Split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t p = line.find(sep, start);
    out.push_back(line.substr(start, p == std::string_view::npos ? p : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

bool ParseU64(std::string_view s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

template <typename Fn>
void ForEachLine(std::string_view text, Fn fn) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    if (!line.empty() && line.front() != '#') fn(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
}

std::vector<IdInterval> Reserved(const IdRangePaths& paths) {
  std::vector<IdInterval> out;
  for (const std::string& f : paths.reserved_files) {
    auto text = ReadFile(f);
    if (!text) continue;  // a missing /etc/subuid reserves nothing
    bool sub = f.find("/sub") != std::string::npos;
    auto part = sub ? ParseSubIdRanges(*text) : ParseIdColumn(*text, 2);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::string SlotPath(const IdRangePaths& paths, uint32_t slot) {
  return fmt::format("{}/{}", paths.registry_dir, slot);
}

// The slot file names `owner` (it is ours).
bool SlotNames(const IdRangePaths& paths, uint32_t slot, const std::string& owner) {
  auto text = ReadFile(SlotPath(paths, slot));
  return text && *text == owner + "\n";
}

// A slot file whose owner no longer records that slot is stale.
bool SlotStale(const IdRangePaths& paths, uint32_t slot) {
  auto text = ReadFile(SlotPath(paths, slot));
  if (!text || text->empty() || text->back() != '\n') return false;
  std::string owner = text->substr(0, text->size() - 1);
  size_t slash = owner.find('/');
  if (slash == std::string::npos || owner.find('/', slash + 1) != std::string::npos ||
      owner.find("..") != std::string::npos)
    return false;
  IdRangePaths other = paths;
  other.instance = owner.substr(0, slash);
  other.qube = owner.substr(slash + 1);
  auto recorded = ReadFile(other.owner_file());
  return !recorded || *recorded != fmt::format("{}\n", slot);
}

Result<bool> TryTake(const IdRangePaths& paths, uint32_t slot) {
  std::string path = SlotPath(paths, slot);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    return Fail(ErrnoError(fmt::format("create id slot {}", path), errno));
  }
  UniqueFd owned(fd);
  QNET_TRY(WriteAll(fd, paths.owner() + "\n"));
  return true;
}

// Takes a free slot; with reclaim, also one whose owner no longer records it.
Result<bool> TakeOrReclaim(const IdRangePaths& paths, uint32_t slot, bool reclaim) {
  QNET_ASSIGN_OR_RETURN(bool taken, TryTake(paths, slot));
  if (taken || !reclaim || !SlotStale(paths, slot)) return taken;
  ::unlink(SlotPath(paths, slot).c_str());
  return TryTake(paths, slot);
}

}  // namespace

std::vector<IdInterval> ParseSubIdRanges(std::string_view text) {
  std::vector<IdInterval> out;
  ForEachLine(text, [&](std::string_view line) {
    auto f = Split(line, ':');
    IdInterval iv;
    if (f.size() >= 3 && ParseU64(f[1], &iv.first) && ParseU64(f[2], &iv.count)) out.push_back(iv);
  });
  return out;
}

std::vector<IdInterval> ParseIdColumn(std::string_view text, int id_field) {
  std::vector<IdInterval> out;
  ForEachLine(text, [&](std::string_view line) {
    auto f = Split(line, ':');
    IdInterval iv{.first = 0, .count = 1};
    if (static_cast<int>(f.size()) > id_field && ParseU64(f[id_field], &iv.first))
      out.push_back(iv);
  });
  return out;
}

bool SlotOverlaps(uint32_t slot, const std::vector<IdInterval>& reserved) {
  uint64_t lo = SlotBase(slot);
  uint64_t hi = lo + kQubeIdCount;
  for (const IdInterval& r : reserved)
    if (r.first < hi && lo < r.first + r.count) return true;
  return false;
}

Result<uint32_t> AcquireIdSlot(const IdRangePaths& paths) {
  QNET_TRY(MakeDirs(paths.registry_dir, 0700));
  QNET_TRY(MakeDirs(paths.qube_dir(), 0700));
  if (auto recorded = ReadFile(paths.owner_file())) {
    uint64_t slot = 0;
    std::string_view s(*recorded);
    if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
    if (ParseU64(s, &slot) && slot < kIdSlotCount &&
        SlotNames(paths, static_cast<uint32_t>(slot), paths.owner()))
      return static_cast<uint32_t>(slot);
  }
  std::vector<IdInterval> reserved = Reserved(paths);
  // Slots in use, read once: a hundred qubes starting do not each probe
  // every taken slot. A slot freed meanwhile is simply found on a later try.
  std::set<uint32_t> in_use;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(paths.registry_dir, ec)) {
    uint64_t n = 0;
    if (ParseU64(e.path().filename().string(), &n) && n < kIdSlotCount)
      in_use.insert(static_cast<uint32_t>(n));
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t slot = 0; slot < kIdSlotCount; ++slot) {
      if (SlotOverlaps(slot, reserved)) continue;
      if (pass == 0 && in_use.count(slot)) continue;
      QNET_ASSIGN_OR_RETURN(bool taken, TakeOrReclaim(paths, slot, pass == 1));
      if (!taken) continue;
      Status rec = WriteFileAtomic(paths.owner_file(), fmt::format("{}\n", slot), 0600);
      if (!rec) {
        ::unlink(SlotPath(paths, slot).c_str());
        return Fail(rec.error().Wrap("record id slot"));
      }
      return slot;
    }
  }
  return Fail(Errc::kUnavailable, fmt::format("no free id range in {} ({} slots in use)",
                                              paths.registry_dir, kIdSlotCount));
}

Status ReleaseIdSlot(const IdRangePaths& paths) {
  auto recorded = ReadFile(paths.owner_file());
  if (recorded) {
    uint64_t slot = 0;
    std::string_view s(*recorded);
    if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
    if (ParseU64(s, &slot) && slot < kIdSlotCount &&
        SlotNames(paths, static_cast<uint32_t>(slot), paths.owner()))
      ::unlink(SlotPath(paths, static_cast<uint32_t>(slot)).c_str());
  }
  if (::unlink(paths.owner_file().c_str()) != 0 && errno != ENOENT)
    return Fail(ErrnoError(fmt::format("remove {}", paths.owner_file()), errno));
  return OkStatus();
}

}  // namespace qnet::runtime
