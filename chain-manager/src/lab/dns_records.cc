#include "qnet/lab/dns_records.h"

#include <fmt/format.h>

#include <charconv>

#include "qnet/base/fd.h"
#include "qnet/base/ip.h"

namespace qnet::lab {
namespace {

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// Host names plus '_' (service labels) and '*' are all the lab needs; a
// stricter set than the wire allows keeps typos from becoming records.
Result<DnsName> ParseOwnerName(std::string_view text) {
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '*';
    if (!ok)
      return Fail(Errc::kInvalidArgument, fmt::format("invalid character in name '{}'", text));
  }
  QNET_ASSIGN_OR_RETURN(DnsName name, NameFromText(text));
  if (name.empty()) return Fail(Errc::kInvalidArgument, "the root name cannot hold records");
  return name;
}

Result<uint32_t> ParseTtl(std::string_view text) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v > kMaxTtl)
    return Fail(Errc::kInvalidArgument, fmt::format("invalid TTL '{}'", text));
  return static_cast<uint32_t>(v);
}

Result<RecordEntry> ParseValue(std::string_view type, std::string_view value) {
  RecordEntry e;
  if (EqualsIgnoreCase(type, "A") || EqualsIgnoreCase(type, "AAAA")) {
    bool v4 = type.size() == 1;
    auto addr = IpAddr::Parse(value);
    if (!addr || addr->is_v4() != v4)
      return Fail(Errc::kInvalidArgument,
                  fmt::format("invalid {} address '{}'", v4 ? "IPv4" : "IPv6", value));
    e.type = v4 ? kTypeA : kTypeAaaa;
    e.rdata.assign(addr->data(), addr->data() + addr->size());
    return e;
  }
  if (EqualsIgnoreCase(type, "CNAME")) {
    auto target = ParseOwnerName(value);
    if (!target) return Fail(target.error().Wrap("CNAME target"));
    e.type = kTypeCname;
    e.target = std::move(*target);
    e.rdata = EncodeName(e.target);
    return e;
  }
  return Fail(Errc::kInvalidArgument,
              fmt::format("unknown type '{}' (want A, AAAA or CNAME)", type));
}

Result<std::pair<DnsName, RecordEntry>> ParseLine(std::string_view line) {
  auto fields = SplitFields(line);
  if (fields.size() < 3 || fields.size() > 4)
    return Fail(Errc::kInvalidArgument,
                fmt::format("want 'NAME TYPE VALUE [TTL]', got {} fields", fields.size()));
  QNET_ASSIGN_OR_RETURN(DnsName name, ParseOwnerName(fields[0]));
  QNET_ASSIGN_OR_RETURN(RecordEntry entry, ParseValue(fields[1], fields[2]));
  if (fields.size() == 4) {
    QNET_ASSIGN_OR_RETURN(entry.ttl, ParseTtl(fields[3]));
  }
  return std::make_pair(std::move(name), std::move(entry));
}

}  // namespace

const std::vector<RecordEntry>* RecordSet::Find(std::string_view key) const {
  auto it = by_name_.find(std::string(key));
  return it == by_name_.end() ? nullptr : &it->second;
}

Status RecordSet::Add(const DnsName& name, RecordEntry entry) {
  auto& list = by_name_[NameKey(name)];
  for (const auto& existing : list) {
    if (existing.type == kTypeCname || entry.type == kTypeCname)
      return Fail(Errc::kInvalidArgument,
                  fmt::format("'{}' has a CNAME and other records", NameToText(name)));
  }
  list.push_back(std::move(entry));
  return OkStatus();
}

Result<RecordSet> ParseRecords(std::string_view text, std::string_view file_name) {
  RecordSet set;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    if (SplitFields(line).empty()) continue;
    auto parsed = ParseLine(line);
    Status added = parsed ? set.Add(parsed->first, std::move(parsed->second)) : Status(parsed);
    if (!added) return Fail(added.error().Wrap(fmt::format("{}:{}", file_name, line_no)));
  }
  return set;
}

Result<RecordSet> LoadRecords(const std::string& path) {
  QNET_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseRecords(text, path);
}

}  // namespace qnet::lab
