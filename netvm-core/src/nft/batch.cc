#include "qnet/nft/batch.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "overloaded.h"

namespace qnet::nft {
namespace {

using internal::Overloaded;

// Kernel limits: names (NFT_NAME_MAXLEN with its NUL), data registers
// (NFT_DATA_VALUE_MAXLEN) and nft's own comment length.
constexpr size_t kMaxName = NFT_NAME_MAXLEN - 1;
constexpr size_t kMaxData = NFT_DATA_VALUE_MAXLEN;
constexpr size_t kMaxComment = 128;
// Elements per NEWSETELEM message: an interval range may become two kernel
// elements of at most ~200 bytes each, and one message's element list must
// stay below the 64 KiB netlink attribute limit.
constexpr size_t kElementsPerMessage = 128;

std::optional<std::string> CheckName(std::string_view what, std::string_view name) {
  if (name.empty()) return fmt::format("{} name is empty", what);
  if (name.size() > kMaxName)
    return fmt::format("{} name of {} bytes exceeds {}", what, name.size(), kMaxName);
  return std::nullopt;
}

std::optional<std::string> CheckData(std::string_view what, const Bytes& b) {
  if (b.empty()) return fmt::format("{}: empty data", what);
  if (b.size() > kMaxData) return fmt::format("{}: {} bytes exceed {}", what, b.size(), kMaxData);
  return std::nullopt;
}

std::optional<std::string> CheckVerdict(const Verdict& v) {
  const bool needs_chain = v.code == VerdictCode::kJump || v.code == VerdictCode::kGoto;
  if (needs_chain) return CheckName(fmt::format("{} target chain", VerdictName(v.code)), v.chain);
  if (!v.chain.empty()) return fmt::format("{} takes no chain", VerdictName(v.code));
  return std::nullopt;
}

std::optional<std::string> CheckExpr(const Expr& expr) {
  using R = std::optional<std::string>;
  return std::visit(Overloaded{
                        [](const Cmp& c) -> R { return CheckData("cmp", c.data); },
                        [](const Bitwise& b) -> R {
                          if (auto e = CheckData("bitwise mask", b.mask)) return e;
                          if (auto e = CheckData("bitwise xor", b.xor_value)) return e;
                          if (b.mask.size() != b.len || b.xor_value.size() != b.len)
                            return fmt::format("bitwise: mask/xor length differs from len {}",
                                               b.len);
                          return std::nullopt;
                        },
                        [](const Range& r) -> R {
                          if (auto e = CheckData("range from", r.from)) return e;
                          if (auto e = CheckData("range to", r.to)) return e;
                          if (r.from.size() != r.to.size())
                            return std::string("range: bounds differ in length");
                          return std::nullopt;
                        },
                        [](const Byteorder& b) -> R {
                          if (b.size != 2 && b.size != 4 && b.size != 8)
                            return fmt::format("byteorder: size {} (2, 4 or 8)", b.size);
                          if (b.len == 0 || b.len > kMaxData || b.len % b.size != 0)
                            return fmt::format("byteorder: len {} for size {}", b.len, b.size);
                          if (b.op != NFT_BYTEORDER_HTON && b.op != NFT_BYTEORDER_NTOH)
                            return fmt::format("byteorder: op {}", b.op);
                          return std::nullopt;
                        },
                        [](const Verdict& v) -> R { return CheckVerdict(v); },
                        [](const ImmediateData& d) -> R { return CheckData("immediate", d.data); },
                        [](const ObjRef& o) -> R { return CheckName("counter", o.name); },
                        [](const Lookup& l) -> R { return CheckName("lookup set", l.set); },
                        [](const Nat& n) -> R {
                          if (n.family != Family::kIp && n.family != Family::kIp6)
                            return std::string("nat: family must be ip or ip6");
                          return std::nullopt;
                        },
                        [](const Unsupported& u) -> R {
                          return fmt::format("unsupported expression: {}", u.what);
                        },
                        [](const auto&) -> R { return std::nullopt; },
                    },
                    expr);
}

std::optional<std::string> CheckRule(const Rule& r) {
  if (auto e = CheckName("chain", r.chain)) return e;
  if (r.comment && r.comment->size() > kMaxComment)
    return fmt::format("comment of {} bytes exceeds {}", r.comment->size(), kMaxComment);
  for (size_t i = 0; i < r.exprs.size(); ++i)
    if (auto e = CheckExpr(r.exprs[i])) return fmt::format("expression {}: {}", i + 1, *e);
  return std::nullopt;
}

std::optional<std::string> CheckSet(const Set& s) {
  if (auto e = CheckName("set", s.name)) return e;
  if (s.key.empty()) return std::string("set has no key type");
  for (DataType t : s.key)
    if (DataTypeLen(t) == 0) return fmt::format("{} cannot be a key", DataTypeName(t));
  if (SetKeyLen(s) > kMaxData) return std::string("key too long");
  if (s.data && *s.data != DataType::kVerdict && DataTypeLen(*s.data) == 0)
    return std::string("bad map data type");
  if (s.default_timeout && !s.timeout) return std::string("default timeout without timeout flag");
  return std::nullopt;
}

std::optional<std::string> CheckElement(const Set& s, const SetElement& el, bool adding) {
  const uint32_t key_len = SetKeyLen(s);
  if (el.key.size() != key_len)
    return fmt::format("element key of {} bytes, set key has {}", el.key.size(), key_len);
  if (el.key_end) {
    if (!s.interval) return std::string("range element in a set without interval flag");
    if (el.key_end->size() != key_len) return std::string("range end differs in length from key");
    if (*el.key_end < el.key) return std::string("range end below its start");
  }
  if (el.timeout && !s.timeout) return std::string("element timeout in a set without timeouts");
  const bool verdict_map = s.data == DataType::kVerdict;
  const bool data_map = s.data.has_value() && !verdict_map;
  if (el.verdict && !verdict_map) return std::string("verdict in an element of a non-verdict map");
  if (el.data && !data_map) return std::string("data in an element of a set without data");
  if (el.verdict)
    if (auto e = CheckVerdict(*el.verdict)) return e;
  if (el.data && el.data->size() != DataTypeLen(*s.data))
    return fmt::format("element data of {} bytes, map data has {}", el.data->size(),
                       DataTypeLen(*s.data));
  if (adding && verdict_map && !el.verdict) return std::string("map element without verdict");
  if (adding && data_map && !el.data) return std::string("map element without data");
  return std::nullopt;
}

std::optional<std::string> CheckTable(const Table& t) { return CheckName("table", t.name); }

}  // namespace

const char* OpKindName(Op::Kind k) {
  switch (k) {
    case Op::Kind::kNewTable:
      return "NEWTABLE";
    case Op::Kind::kDelTable:
      return "DELTABLE";
    case Op::Kind::kNewChain:
      return "NEWCHAIN";
    case Op::Kind::kDelChain:
      return "DELCHAIN";
    case Op::Kind::kFlushChain:
      return "DELRULE";
    case Op::Kind::kNewRule:
      return "NEWRULE";
    case Op::Kind::kNewSet:
      return "NEWSET";
    case Op::Kind::kDelSet:
      return "DELSET";
    case Op::Kind::kFlushSet:
      return "DELSETELEM";
    case Op::Kind::kNewElements:
      return "NEWSETELEM";
    case Op::Kind::kDelElements:
      return "DELSETELEM";
    case Op::Kind::kNewCounter:
      return "NEWOBJ";
    case Op::Kind::kDelCounter:
      return "DELOBJ";
  }
  return "?";
}

namespace {

// What an operation touches, e.g. "chain fw-12, comment \"rule 3\"". Built
// only when an error or a log names the operation: a batch holds tens of
// thousands of them.
std::string OpDetail(const Op& op) {
  using K = Op::Kind;
  switch (op.kind) {
    case K::kNewTable:
    case K::kDelTable:
      return fmt::format("table {} {}", FamilyName(op.table.family), op.table.name);
    case K::kNewChain:
    case K::kDelChain:
      return fmt::format("chain {}", std::get<Chain>(op.object).name);
    case K::kFlushChain:
      return fmt::format("flush chain {}", std::get<Chain>(op.object).name);
    case K::kNewRule: {
      const Rule& r = std::get<Rule>(op.object);
      return r.comment ? fmt::format("chain {}, comment \"{}\"", r.chain, *r.comment)
                       : fmt::format("chain {}", r.chain);
    }
    case K::kNewSet:
    case K::kDelSet:
      return fmt::format("set {}", std::get<Set>(op.object).name);
    case K::kFlushSet:
      return fmt::format("flush set {}", std::get<Set>(op.object).name);
    case K::kNewElements:
    case K::kDelElements:
      return fmt::format("set {}, {} elements", std::get<Set>(op.object).name, op.elements.size());
    case K::kNewCounter:
    case K::kDelCounter:
      return fmt::format("counter {}", std::get<CounterObject>(op.object).name);
  }
  return "?";
}

}  // namespace

std::string OpDescription(const Op& op) {
  return fmt::format("{} seq {} ({})", OpKindName(op.kind), op.seq, OpDetail(op));
}

Batch::Batch(uint32_t first_seq) : first_seq_(first_seq == 0 ? 1 : first_seq) {}

Op& Batch::Push(Op::Kind kind, const Table& t, Op::Object object) {
  Op& op = ops_.emplace_back();
  op.kind = kind;
  op.seq = first_seq_ + static_cast<uint32_t>(ops_.size() - 1);
  op.table = t;
  op.object = std::move(object);
  return op;
}

void Batch::Refuse(std::string_view why) {
  if (status_.ok())
    status_ = Error(Errc::kInvalidArgument, fmt::format("{}: {}", OpDescription(ops_.back()), why));
  ops_.pop_back();
}

void Batch::Invalidate(std::string_view why) {
  if (status_.ok()) status_ = Error(Errc::kInvalidArgument, std::string(why));
}

void Batch::AddTable(const Table& t) {
  Push(Op::Kind::kNewTable, t, std::monostate{});
  if (auto e = CheckTable(t)) Refuse(*e);
}

void Batch::DelTable(const Table& t) {
  Push(Op::Kind::kDelTable, t, std::monostate{});
  if (auto e = CheckTable(t)) Refuse(*e);
}

void Batch::AddChain(const Table& t, const Chain& c) {
  Push(Op::Kind::kNewChain, t, c);
  if (auto e = CheckTable(t)) return Refuse(*e);
  if (auto e = CheckName("chain", c.name)) return Refuse(*e);
}

void Batch::DelChain(const Table& t, std::string_view chain) {
  Push(Op::Kind::kDelChain, t, Chain{std::string(chain), std::nullopt});
  if (auto e = CheckTable(t)) return Refuse(*e);
  if (auto e = CheckName("chain", chain)) return Refuse(*e);
}

void Batch::FlushChain(const Table& t, std::string_view chain) {
  Push(Op::Kind::kFlushChain, t, Chain{std::string(chain), std::nullopt});
  if (auto e = CheckTable(t)) return Refuse(*e);
  if (auto e = CheckName("chain", chain)) return Refuse(*e);
}

void Batch::AddRule(const Table& t, const Rule& rule) { AddRule(t, Rule(rule)); }

void Batch::AddRule(const Table& t, Rule&& rule) {
  const Op& op = Push(Op::Kind::kNewRule, t, std::move(rule));
  if (auto e = CheckTable(t)) return Refuse(*e);
  if (auto e = CheckRule(std::get<Rule>(op.object))) return Refuse(*e);
}

void Batch::AddSet(const Table& t, const Set& s) {
  Push(Op::Kind::kNewSet, t, s);
  if (auto e = CheckTable(t)) return Refuse(*e);
  if (auto e = CheckSet(s)) return Refuse(*e);
}

void Batch::DelSet(const Table& t, std::string_view set) {
  Push(Op::Kind::kDelSet, t, Set{.name = std::string(set)});
  if (auto e = CheckTable(t)) return Refuse(*e);
  if (auto e = CheckName("set", set)) return Refuse(*e);
}

void Batch::FlushSet(const Table& t, std::string_view set) {
  Push(Op::Kind::kFlushSet, t, Set{.name = std::string(set)});
  if (auto e = CheckTable(t)) return Refuse(*e);
  if (auto e = CheckName("set", set)) return Refuse(*e);
}

void Batch::AddElementOps(Op::Kind kind, const Table& t, const Set& s,
                          std::span<const SetElement> elements) {
  for (size_t start = 0; start < elements.size(); start += kElementsPerMessage) {
    const size_t n = std::min(kElementsPerMessage, elements.size() - start);
    Op& op = Push(kind, t, s);
    op.elements.assign(elements.begin() + static_cast<std::ptrdiff_t>(start),
                       elements.begin() + static_cast<std::ptrdiff_t>(start + n));
    if (auto e = CheckTable(t)) return Refuse(*e);
    if (auto e = CheckSet(s)) return Refuse(*e);
    for (size_t i = 0; i < n; ++i) {
      if (auto e = CheckElement(s, elements[start + i], kind == Op::Kind::kNewElements))
        return Refuse(fmt::format("element {}: {}", start + i + 1, *e));
    }
  }
}

void Batch::AddElements(const Table& t, const Set& s, std::span<const SetElement> elements) {
  AddElementOps(Op::Kind::kNewElements, t, s, elements);
}

void Batch::DelElements(const Table& t, const Set& s, std::span<const SetElement> elements) {
  AddElementOps(Op::Kind::kDelElements, t, s, elements);
}

void Batch::AddCounter(const Table& t, const CounterObject& c) {
  Push(Op::Kind::kNewCounter, t, c);
  if (auto e = CheckTable(t)) return Refuse(*e);
  if (auto e = CheckName("counter", c.name)) return Refuse(*e);
}

void Batch::DelCounter(const Table& t, std::string_view name) {
  Push(Op::Kind::kDelCounter, t, CounterObject{std::string(name)});
  if (auto e = CheckTable(t)) return Refuse(*e);
  if (auto e = CheckName("counter", name)) return Refuse(*e);
}

void Batch::Append(Batch&& other) {
  if (status_.ok() && !other.status_.ok()) status_ = other.status_;
  ops_.reserve(ops_.size() + other.ops_.size());
  for (Op& o : other.ops_) {
    Op& op = ops_.emplace_back(std::move(o));
    op.seq = first_seq_ + static_cast<uint32_t>(ops_.size() - 1);
  }
  other.ops_.clear();
}

void Batch::Append(const Batch& other) {
  if (status_.ok() && !other.status_.ok()) status_ = other.status_;
  ops_.reserve(ops_.size() + other.ops_.size());
  for (const Op& o : other.ops_) {
    Op& op = ops_.emplace_back(o);
    op.seq = first_seq_ + static_cast<uint32_t>(ops_.size() - 1);
  }
}

std::string Batch::Describe(uint32_t seq) const {
  if (seq == begin_seq()) return fmt::format("BATCH_BEGIN seq {}", seq);
  if (seq == end_seq()) return fmt::format("BATCH_END seq {}", seq);
  if (seq >= first_seq_ && seq - first_seq_ < ops_.size())
    return OpDescription(ops_[seq - first_seq_]);
  return fmt::format("unknown seq {}", seq);
}

}  // namespace qnet::nft
