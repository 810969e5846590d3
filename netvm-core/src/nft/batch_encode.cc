// Batch::Encode: the operations as one NFNL batch, built with libnftnl.

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nfnetlink.h>

#include <cassert>
#include <cstring>
#include <memory>

#include "expr_codec.h"
#include "nftnl_ptr.h"
#include "overloaded.h"
#include "qnet/nft/batch.h"

namespace qnet::nft {
namespace {

using internal::ChainPtr;
using internal::ObjPtr;
using internal::Overloaded;
using internal::RulePtr;
using internal::SetElemPtr;
using internal::SetPtr;
using internal::TablePtr;

// libnftnl writes attributes without bounds checks, so every message is
// built in a scratch buffer at least as large as the worst case for its
// content (names <= 256 bytes, data <= 64 bytes, so ~1 KiB per expression
// or element is generous), then copied to the output.
constexpr size_t kBaseCapacity = 4096;
constexpr size_t kPerItemCapacity = 1024;

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>* out) : out_(out) {}

  nlmsghdr* Start(uint16_t type, Family family, uint16_t flags, uint32_t seq, size_t items) {
    const size_t capacity = kBaseCapacity + items * kPerItemCapacity;
    if (scratch_.size() < capacity) scratch_.resize(capacity);
    return nftnl_nlmsg_build_hdr(Buf(), type, static_cast<uint16_t>(family), flags, seq);
  }
  // The scratch buffer for a header-only message (batch begin/end).
  char* Buf() {
    if (scratch_.size() < kBaseCapacity) scratch_.resize(kBaseCapacity);
    return reinterpret_cast<char*>(scratch_.data());
  }
  void Finish(const nlmsghdr* nlh) {
    const size_t len = MNL_ALIGN(nlh->nlmsg_len);
    assert(len <= scratch_.size());
    out_->insert(out_->end(), scratch_.data(), scratch_.data() + len);
  }

 private:
  std::vector<uint8_t>* out_;
  std::vector<uint8_t> scratch_;
};

constexpr uint16_t kCreate = NLM_F_CREATE;

void EncodeTable(Writer& w, const Op& op, uint16_t type, uint16_t flags) {
  TablePtr t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, op.table.name.c_str());
  nlmsghdr* nlh = w.Start(type, op.table.family, flags, op.seq, 0);
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  w.Finish(nlh);
}

void EncodeChain(Writer& w, const Op& op, uint16_t type, uint16_t flags) {
  const Chain& c = std::get<Chain>(op.object);
  ChainPtr ch(nftnl_chain_alloc());
  nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TABLE, op.table.name.c_str());
  nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_NAME, c.name.c_str());
  if (c.base && type == NFT_MSG_NEWCHAIN) {
    nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_HOOKNUM, static_cast<uint32_t>(c.base->hook));
    nftnl_chain_set_s32(ch.get(), NFTNL_CHAIN_PRIO, c.base->priority);
    nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TYPE, ChainTypeName(c.base->type));
    nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_POLICY,
                        c.base->policy == Policy::kDrop ? NF_DROP : NF_ACCEPT);
  }
  nlmsghdr* nlh = w.Start(type, op.table.family, flags, op.seq, 0);
  nftnl_chain_nlmsg_build_payload(nlh, ch.get());
  w.Finish(nlh);
}

void EncodeFlushChain(Writer& w, const Op& op) {
  RulePtr r(nftnl_rule_alloc());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, op.table.name.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, std::get<Chain>(op.object).name.c_str());
  nlmsghdr* nlh = w.Start(NFT_MSG_DELRULE, op.table.family, 0, op.seq, 0);
  nftnl_rule_nlmsg_build_payload(nlh, r.get());
  w.Finish(nlh);
}

// The rule message is written directly (table, chain, expressions,
// comment): a batch holds tens of thousands of rules, and libnftnl's
// object per rule and per expression costs more than the writing itself.
void EncodeRule(Writer& w, const Op& op) {
  const Rule& rule = std::get<Rule>(op.object);
  nlmsghdr* nlh =
      w.Start(NFT_MSG_NEWRULE, op.table.family, kCreate | NLM_F_APPEND, op.seq, rule.exprs.size());
  mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, op.table.name.c_str());
  mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, rule.chain.c_str());
  nlattr* list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
  for (const Expr& e : rule.exprs) internal::PutExpr(nlh, e);
  mnl_attr_nest_end(nlh, list);
  if (rule.comment) {
    // nft's layout (one libnftnl udata TLV: type, length, NUL-terminated
    // text), so `nft list` shows the comment. Batch caps it at 128 bytes.
    const size_t len = rule.comment->size() + 1;
    uint8_t udata[2 + 256];
    udata[0] = NFTNL_UDATA_RULE_COMMENT;
    udata[1] = static_cast<uint8_t>(len);
    std::memcpy(udata + 2, rule.comment->c_str(), len);
    mnl_attr_put(nlh, NFTA_RULE_USERDATA, 2 + len, udata);
  }
  w.Finish(nlh);
}

// nft's byte orders (its enum byteorder), as it records them per set.
constexpr uint32_t kHostEndian = 1;
constexpr uint32_t kBigEndian = 2;

uint32_t ByteOrder(DataType t) {
  // Names and marks are host-order data; addresses, ports and protocols are
  // network order. Concatenations carry none of their own (0), as nft's.
  return t == DataType::kIfname || t == DataType::kMark ? kHostEndian : kBigEndian;
}

// The set's userdata as nft writes it (key and data byte orders): without
// it `nft list` prints an ifname key "vif3.0" as "" and a listing saved and
// loaded again with `nft -f` would make a set that matches nothing.
void PutSetUserdata(nftnl_set* s, const Set& set) {
  std::unique_ptr<nftnl_udata_buf, decltype(&nftnl_udata_buf_free)> buf(
      nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN), &nftnl_udata_buf_free);
  const uint32_t key_order = set.key.size() == 1 ? ByteOrder(set.key[0]) : 0;
  nftnl_udata_put_u32(buf.get(), NFTNL_UDATA_SET_KEYBYTEORDER, key_order);
  if (set.data && *set.data != DataType::kVerdict)
    nftnl_udata_put_u32(buf.get(), NFTNL_UDATA_SET_DATABYTEORDER, ByteOrder(*set.data));
  nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(buf.get()),
                     nftnl_udata_buf_len(buf.get()));
}

SetPtr SetHandle(const Op& op) {
  SetPtr s(nftnl_set_alloc());
  nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, op.table.name.c_str());
  nftnl_set_set_str(s.get(), NFTNL_SET_NAME, std::get<Set>(op.object).name.c_str());
  return s;
}

void EncodeNewSet(Writer& w, const Op& op) {
  const Set& set = std::get<Set>(op.object);
  SetPtr s = SetHandle(op);
  const bool concat = set.key.size() > 1;
  uint32_t flags = 0;
  if (set.constant) flags |= NFT_SET_CONSTANT;
  if (set.interval) flags |= NFT_SET_INTERVAL;
  if (set.timeout) flags |= NFT_SET_TIMEOUT;
  if (set.data) flags |= NFT_SET_MAP;
  // Ranges over concatenations need the pipapo backend, selected by CONCAT.
  if (concat && set.interval) flags |= NFT_SET_CONCAT;
  nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, flags);
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, SetKeyTypeId(set));
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, SetKeyLen(set));
  nftnl_set_set_u32(s.get(), NFTNL_SET_ID, op.seq);
  if (set.data) {
    const bool verdict = *set.data == DataType::kVerdict;
    nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_TYPE,
                      verdict ? NFT_DATA_VERDICT : static_cast<uint32_t>(*set.data));
    if (!verdict) nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_LEN, DataTypeLen(*set.data));
  }
  if (set.default_timeout)
    nftnl_set_set_u64(s.get(), NFTNL_SET_TIMEOUT,
                      static_cast<uint64_t>(set.default_timeout->count()));
  // The kernel refuses field lengths (DESC_CONCAT) on a set without the
  // CONCAT flag, which only interval concatenations carry.
  if (concat && set.interval) {
    uint8_t field_len[NFT_REG32_COUNT] = {};
    for (size_t i = 0; i < set.key.size() && i < NFT_REG32_COUNT; ++i)
      field_len[i] = static_cast<uint8_t>(DataTypeLen(set.key[i]));
    nftnl_set_set_data(s.get(), NFTNL_SET_DESC_CONCAT, field_len,
                       static_cast<uint32_t>(set.key.size()));
  }
  PutSetUserdata(s.get(), set);
  nlmsghdr* nlh = w.Start(NFT_MSG_NEWSET, op.table.family, kCreate, op.seq, 0);
  nftnl_set_nlmsg_build_payload(nlh, s.get());
  w.Finish(nlh);
}

void EncodeDelSet(Writer& w, const Op& op) {
  SetPtr s = SetHandle(op);
  nlmsghdr* nlh = w.Start(NFT_MSG_DELSET, op.table.family, 0, op.seq, 0);
  nftnl_set_nlmsg_build_payload(nlh, s.get());
  w.Finish(nlh);
}

// key + 1 as a big-endian number; false when it overflows.
bool Increment(Bytes* key) {
  for (size_t i = key->size(); i-- > 0;) {
    if (++(*key)[i] != 0) return true;
  }
  return false;
}

void SetElemBytes(nftnl_set_elem* e, uint16_t attr, const Bytes& b) {
  nftnl_set_elem_set(e, attr, b.data(), static_cast<uint32_t>(b.size()));
}

SetElemPtr BuildElement(const SetElement& el, const Bytes& key) {
  SetElemPtr e(nftnl_set_elem_alloc());
  SetElemBytes(e.get(), NFTNL_SET_ELEM_KEY, key);
  if (el.verdict) {
    nftnl_set_elem_set_u32(e.get(), NFTNL_SET_ELEM_VERDICT,
                           static_cast<uint32_t>(internal::VerdictToKernel(el.verdict->code)));
    if (!el.verdict->chain.empty())
      nftnl_set_elem_set_str(e.get(), NFTNL_SET_ELEM_CHAIN, el.verdict->chain.c_str());
  }
  if (el.data) SetElemBytes(e.get(), NFTNL_SET_ELEM_DATA, *el.data);
  if (el.timeout)
    nftnl_set_elem_set_u64(e.get(), NFTNL_SET_ELEM_TIMEOUT,
                           static_cast<uint64_t>(el.timeout->count()));
  return e;
}

// Interval sets over one field (the rbtree backend) take a range [a, b] as
// an element a and an element b+1 flagged INTERVAL_END, as nft sends them; a
// single value is the range [a, a]. Concatenations (pipapo) take KEY_END.
void AddKernelElements(std::vector<SetElemPtr>& out, const Set& set, const SetElement& el) {
  if (!set.interval) {
    out.push_back(BuildElement(el, el.key));
    return;
  }
  const Bytes& last = el.key_end ? *el.key_end : el.key;
  SetElemPtr start = BuildElement(el, el.key);
  if (set.key.size() > 1) {
    SetElemBytes(start.get(), NFTNL_SET_ELEM_KEY_END, last);
    out.push_back(std::move(start));
    return;
  }
  out.push_back(std::move(start));
  Bytes end = last;
  if (!Increment(&end)) return;  // the range runs to the top of the key space
  SetElemPtr e(nftnl_set_elem_alloc());
  SetElemBytes(e.get(), NFTNL_SET_ELEM_KEY, end);
  nftnl_set_elem_set_u32(e.get(), NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
  out.push_back(std::move(e));
}

void EncodeElements(Writer& w, const Op& op, uint16_t type, uint16_t flags) {
  const Set& set = std::get<Set>(op.object);
  SetPtr s = SetHandle(op);
  std::vector<SetElemPtr> elems;
  for (const SetElement& el : op.elements) AddKernelElements(elems, set, el);
  nlmsghdr* nlh = w.Start(type, op.table.family, flags, op.seq, 2 * op.elements.size());
  // Table and set name only; a message without an element list is a flush.
  nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
  if (elems.empty()) return w.Finish(nlh);
  // Every element nests as NFTA_LIST_ELEM, as in the kernel's own dumps
  // (libnftnl numbers them instead, which its own parser then rejects).
  nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
  for (const SetElemPtr& e : elems) nftnl_set_elem_nlmsg_build(nlh, e.get(), NFTA_LIST_ELEM);
  mnl_attr_nest_end(nlh, list);
  w.Finish(nlh);
}

void EncodeCounter(Writer& w, const Op& op, uint16_t type, uint16_t flags) {
  ObjPtr o(nftnl_obj_alloc());
  nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, op.table.name.c_str());
  nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, std::get<CounterObject>(op.object).name.c_str());
  nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
  nlmsghdr* nlh = w.Start(type, op.table.family, flags, op.seq, 0);
  nftnl_obj_nlmsg_build_payload(nlh, o.get());
  w.Finish(nlh);
}

void EncodeOp(Writer& w, const Op& op) {
  switch (op.kind) {
    case Op::Kind::kNewTable:
      return EncodeTable(w, op, NFT_MSG_NEWTABLE, kCreate);
    case Op::Kind::kDelTable:
      return EncodeTable(w, op, NFT_MSG_DELTABLE, 0);
    case Op::Kind::kNewChain:
      return EncodeChain(w, op, NFT_MSG_NEWCHAIN, kCreate);
    case Op::Kind::kDelChain:
      return EncodeChain(w, op, NFT_MSG_DELCHAIN, 0);
    case Op::Kind::kFlushChain:
      return EncodeFlushChain(w, op);
    case Op::Kind::kNewRule:
      return EncodeRule(w, op);
    case Op::Kind::kNewSet:
      return EncodeNewSet(w, op);
    case Op::Kind::kDelSet:
      return EncodeDelSet(w, op);
    case Op::Kind::kFlushSet:
      return EncodeElements(w, op, NFT_MSG_DELSETELEM, 0);
    case Op::Kind::kNewElements:
      return EncodeElements(w, op, NFT_MSG_NEWSETELEM, kCreate);
    case Op::Kind::kDelElements:
      return EncodeElements(w, op, NFT_MSG_DELSETELEM, 0);
    case Op::Kind::kNewCounter:
      return EncodeCounter(w, op, NFT_MSG_NEWOBJ, kCreate);
    case Op::Kind::kDelCounter:
      return EncodeCounter(w, op, NFT_MSG_DELOBJ, 0);
  }
}

}  // namespace

std::vector<uint8_t> Batch::Encode() const {
  // One allocation for the whole batch: growing a multi-megabyte vector by
  // doubling costs more than encoding it.
  size_t estimate = 64;
  for (const Op& op : ops_) {
    estimate += 128 + 64 * op.elements.size();
    if (const Rule* r = std::get_if<Rule>(&op.object)) estimate += 64 * r->exprs.size();
  }
  std::vector<uint8_t> out;
  out.reserve(estimate);
  Writer w(&out);
  w.Finish(nftnl_batch_begin(w.Buf(), begin_seq()));
  size_t last = 0;
  for (const Op& op : ops_) {
    last = out.size();
    EncodeOp(w, op);
  }
  // Only the last message asks for an ACK: the kernel answers every refused
  // message anyway, in order, so that ACK closes the batch's answers.
  if (!ops_.empty()) reinterpret_cast<nlmsghdr*>(out.data() + last)->nlmsg_flags |= NLM_F_ACK;
  w.Finish(nftnl_batch_end(w.Buf(), end_seq()));
  return out;
}

}  // namespace qnet::nft
