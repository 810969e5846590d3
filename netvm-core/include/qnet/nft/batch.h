// nft::Batch: an ordered list of nftables operations that the kernel applies
// as ONE transaction (all or nothing), and its pure encoder.
//
// Each Add*/Del*/Flush* call appends one operation (AddElements/DelElements
// may append several, in chunks the kernel accepts) and gives it its own
// netlink sequence number, consecutive from first_seq, and a description
// naming it, e.g. "NEWRULE seq 17 (chain fw-10-137-0-12)". Encode() produces
// the whole NFNL batch (BATCH_BEGIN, the messages, BATCH_END); only the
// last message carries NLM_F_ACK: the kernel answers each refused message
// (naming its seq) whatever its flags, and all answers come in message
// order after the whole batch ran, so Commit (transaction.h) reads until the
// last message's answer and names the first one refused. (One ACK per
// message cost ~3 syscalls each: 40k for a 14k-message batch.)
//
// Input is validated when added: empty or over-long names, data longer than
// the kernel's 64-byte limit, a jump without a chain, a rule containing an
// Unsupported expression. The first problem is kept in status() (with the
// description of the operation) and the operation is dropped; Commit refuses
// a batch whose status is not ok, so a bad batch never reaches the kernel.
//
// Creation never uses NLM_F_EXCL: re-adding an existing table or chain (with
// the same hook) is a no-op, which is how base chains are created once and
// kept. A value type: copyable, movable; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/nft/ruleset.h"

namespace qnet::nft {

// One operation = one netlink message of the batch.
struct Op {
  enum class Kind : uint8_t {
    kNewTable,
    kDelTable,
    kNewChain,
    kDelChain,
    kFlushChain,  // NFT_MSG_DELRULE naming only the chain
    kNewRule,
    kNewSet,
    kDelSet,
    kFlushSet,  // NFT_MSG_DELSETELEM naming only the set
    kNewElements,
    kDelElements,
    kNewCounter,  // NFT_MSG_NEWOBJ of type counter
    kDelCounter,
  };
  // Chain for chain ops (name only for DelChain/FlushChain), Rule for NewRule,
  // Set for set and element ops (name only for DelSet/FlushSet), CounterObject
  // for counter ops; monostate for table ops.
  using Object = std::variant<std::monostate, Chain, Rule, Set, CounterObject>;
  Kind kind = Kind::kNewTable;
  uint32_t seq = 0;
  Table table;
  Object object;
  std::vector<SetElement> elements;  // kNewElements/kDelElements
};
const char* OpKindName(Op::Kind k);  // "NEWRULE", "DELRULE", ...
// "NEWRULE seq 17 (chain fw-10-137-0-12)": the kind, the seq and what the
// operation touches.
std::string OpDescription(const Op& op);

class Batch {
 public:
  // Operations get sequence numbers first_seq, first_seq+1, ...; BATCH_BEGIN
  // uses first_seq - 1 and BATCH_END the number after the last operation.
  explicit Batch(uint32_t first_seq = 1);

  void AddTable(const Table& t);
  void DelTable(const Table& t);
  // Base or regular chain; NLM_F_CREATE without EXCL.
  void AddChain(const Table& t, const Chain& c);
  void DelChain(const Table& t, std::string_view chain);
  // Deletes every rule of the chain; the chain and its handle stay.
  void FlushChain(const Table& t, std::string_view chain);
  // Appends the rule at the end of rule.chain.
  void AddRule(const Table& t, const Rule& rule);
  void AddRule(const Table& t, Rule&& rule);
  void AddSet(const Table& t, const Set& s);
  void DelSet(const Table& t, std::string_view set);
  // Deletes every element of the set; the set stays.
  void FlushSet(const Table& t, std::string_view set);
  // s must describe the set as created (key types, interval, map): it decides
  // how elements are encoded (ranges of a single-field interval set become
  // start and end-flag elements, as nft does).
  void AddElements(const Table& t, const Set& s, std::span<const SetElement> elements);
  void DelElements(const Table& t, const Set& s, std::span<const SetElement> elements);
  void AddCounter(const Table& t, const CounterObject& c);
  void DelCounter(const Table& t, std::string_view name);

  // Marks the batch invalid with why (kept if it is the first problem), for
  // builders that find bad input before adding an operation.
  void Invalidate(std::string_view why);

  // Appends every operation of other (renumbered to follow this batch's).
  void Append(const Batch& other);
  void Append(Batch&& other);

  // The first validation error of any call above, or ok.
  const Status& status() const { return status_; }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  const std::vector<Op>& ops() const { return ops_; }
  uint32_t first_seq() const { return first_seq_; }
  // Sequence numbers in use: BATCH_BEGIN, and BATCH_END.
  uint32_t begin_seq() const { return first_seq_ - 1; }
  uint32_t end_seq() const { return first_seq_ + static_cast<uint32_t>(ops_.size()); }
  // "NEWRULE seq 17 (chain x)" for an operation's seq, "BATCH_BEGIN seq N"
  // for the batch header, "unknown seq N" otherwise.
  std::string Describe(uint32_t seq) const;

  // The NFNL batch as sent to the kernel. Pure; encodes the valid
  // operations even when status() is not ok (for inspection only).
  std::vector<uint8_t> Encode() const;

 private:
  Op& Push(Op::Kind kind, const Table& t, Op::Object object);
  // Drops the last pushed op and keeps why as status() if it is the first.
  void Refuse(std::string_view why);
  void AddElementOps(Op::Kind kind, const Table& t, const Set& s,
                     std::span<const SetElement> elements);

  uint32_t first_seq_;
  std::vector<Op> ops_;
  Status status_;
};

}  // namespace qnet::nft
