// Pure decoders of nf_tables messages into the values of ruleset.h.

#include "qnet/nft/decode.h"

#include <fmt/format.h>
#include <libmnl/libmnl.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <string_view>

#include "expr_codec.h"
#include "nftnl_ptr.h"

namespace qnet::nft {
namespace {

using internal::ChainPtr;
using internal::ObjPtr;
using internal::RulePtr;
using internal::SetPtr;

Error ParseError(std::string_view what) {
  return Error(Errc::kProtocol, fmt::format("nft: cannot parse {} message", what));
}

Result<ChainType> ChainTypeFromName(const char* name) {
  const std::string_view n = name ? name : "";
  if (n == "filter") return ChainType::kFilter;
  if (n == "nat") return ChainType::kNat;
  return Fail(Errc::kProtocol, fmt::format("nft: chain type \"{}\" not supported", n));
}

std::optional<std::string> RuleComment(const nftnl_rule* r) {
  if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) return std::nullopt;
  uint32_t len = 0;
  const void* data = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
  const nftnl_udata* tb[NFTNL_UDATA_RULE_MAX + 1] = {};
  auto cb = [](const nftnl_udata* attr, void* arg) -> int {
    auto* table = static_cast<const nftnl_udata**>(arg);
    if (nftnl_udata_type(attr) <= NFTNL_UDATA_RULE_MAX) table[nftnl_udata_type(attr)] = attr;
    return 0;
  };
  if (nftnl_udata_parse(data, len, cb, tb) < 0 || tb[NFTNL_UDATA_RULE_COMMENT] == nullptr)
    return std::nullopt;
  const nftnl_udata* c = tb[NFTNL_UDATA_RULE_COMMENT];
  const char* text = static_cast<const char*>(nftnl_udata_get(c));
  return std::string(text, strnlen(text, nftnl_udata_len(c)));
}

Bytes ElemBytes(nftnl_set_elem* e, uint16_t attr) {
  uint32_t len = 0;
  const auto* p = static_cast<const uint8_t*>(nftnl_set_elem_get(e, attr, &len));
  return p ? Bytes(p, p + len) : Bytes{};
}

struct RawElement {
  SetElement el;
  bool interval_end = false;
};

Result<RawElement> DecodeElement(nftnl_set_elem* e) {
  RawElement raw;
  raw.el.key = ElemBytes(e, NFTNL_SET_ELEM_KEY);
  if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END))
    raw.el.key_end = ElemBytes(e, NFTNL_SET_ELEM_KEY_END);
  if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
    raw.interval_end =
        (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END) != 0;
  if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT)) {
    Verdict v;
    const int k = static_cast<int>(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT));
    if (!internal::VerdictFromKernel(k, &v.code)) return ParseError("NEWSETELEM (verdict)");
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
      v.chain = nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN);
    raw.el.verdict = std::move(v);
  }
  if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA))
    raw.el.data = ElemBytes(e, NFTNL_SET_ELEM_DATA);
  if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
    raw.el.timeout = std::chrono::milliseconds(nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT));
  return raw;
}

// value - 1 as a big-endian number (value is never all zero here).
Bytes Decrement(Bytes b) {
  for (size_t i = b.size(); i-- > 0;) {
    if (b[i]-- != 0) break;
  }
  return b;
}

// Turns the rbtree's start / end-flagged elements back into [start, end-1].
std::vector<SetElement> MergeRanges(std::vector<RawElement> raw) {
  std::stable_sort(raw.begin(), raw.end(), [](const RawElement& a, const RawElement& b) {
    // At equal keys an end closes the previous range before a new one starts.
    if (a.el.key != b.el.key) return a.el.key < b.el.key;
    return a.interval_end && !b.interval_end;
  });
  std::vector<SetElement> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i].interval_end) continue;  // an end with no start (nft's leading zero)
    SetElement el = std::move(raw[i].el);
    if (i + 1 < raw.size() && raw[i + 1].interval_end) {
      Bytes last = Decrement(raw[i + 1].el.key);
      if (last != el.key) el.key_end = std::move(last);
      ++i;
    } else {
      el.key_end = Bytes(el.key.size(), 0xff);  // open to the top of the key space
    }
    out.push_back(std::move(el));
  }
  return out;
}

}  // namespace

Result<ChainState> DecodeChain(const nlmsghdr* nlh) {
  ChainPtr c(nftnl_chain_alloc());
  if (nftnl_chain_nlmsg_parse(nlh, c.get()) < 0) return ParseError("NEWCHAIN");
  ChainState st;
  const char* name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
  if (name == nullptr) return ParseError("NEWCHAIN (no name)");
  st.chain.name = name;
  st.handle = nftnl_chain_get_u64(c.get(), NFTNL_CHAIN_HANDLE);
  if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM)) {
    BaseHook b;
    QNET_ASSIGN_OR_RETURN(b.type,
                          ChainTypeFromName(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE)));
    b.hook = static_cast<Hook>(nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM));
    b.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
    b.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY) == NF_ACCEPT ? Policy::kAccept
                                                                             : Policy::kDrop;
    st.chain.base = b;
  }
  return st;
}

Result<RuleState> DecodeRule(const nlmsghdr* nlh) {
  RulePtr r(nftnl_rule_alloc());
  if (nftnl_rule_nlmsg_parse(nlh, r.get()) < 0) return ParseError("NEWRULE");
  RuleState st;
  const char* chain = nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN);
  if (chain == nullptr) return ParseError("NEWRULE (no chain)");
  st.rule.chain = chain;
  if (nftnl_rule_is_set(r.get(), NFTNL_RULE_HANDLE))
    st.handle = nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE);
  auto cb = [](nftnl_expr* e, void* data) -> int {
    static_cast<std::vector<Expr>*>(data)->push_back(internal::DecodeExpr(e));
    return 0;
  };
  nftnl_expr_foreach(r.get(), cb, &st.rule.exprs);
  st.rule.comment = RuleComment(r.get());
  return st;
}

Result<SetState> DecodeSet(const nlmsghdr* nlh) {
  SetPtr s(nftnl_set_alloc());
  if (nftnl_set_nlmsg_parse(nlh, s.get()) < 0) return ParseError("NEWSET");
  const char* name = nftnl_set_get_str(s.get(), NFTNL_SET_NAME);
  if (name == nullptr) return ParseError("NEWSET (no name)");
  SetState st;
  st.set.name = name;
  st.handle = nftnl_set_get_u64(s.get(), NFTNL_SET_HANDLE);
  const uint32_t flags = nftnl_set_get_u32(s.get(), NFTNL_SET_FLAGS);
  st.set.constant = (flags & NFT_SET_CONSTANT) != 0;
  st.set.interval = (flags & NFT_SET_INTERVAL) != 0;
  st.set.timeout = (flags & NFT_SET_TIMEOUT) != 0;
  // nft's concatenation encoding: 6 bits per field, first field highest.
  std::deque<DataType> key;
  for (uint32_t id = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_TYPE); id != 0; id >>= 6)
    key.push_front(static_cast<DataType>(id & 0x3f));
  st.set.key.assign(key.begin(), key.end());
  if (flags & NFT_SET_MAP) {
    const uint32_t dt = nftnl_set_get_u32(s.get(), NFTNL_SET_DATA_TYPE);
    st.set.data = dt == NFT_DATA_VERDICT ? DataType::kVerdict : static_cast<DataType>(dt);
  }
  if (nftnl_set_is_set(s.get(), NFTNL_SET_TIMEOUT) && nftnl_set_get_u64(s.get(), NFTNL_SET_TIMEOUT))
    st.set.default_timeout =
        std::chrono::milliseconds(nftnl_set_get_u64(s.get(), NFTNL_SET_TIMEOUT));
  return st;
}

Result<std::vector<SetElement>> DecodeSetElements(const Set& set,
                                                  const std::vector<const nlmsghdr*>& messages) {
  std::vector<RawElement> raw;
  for (const nlmsghdr* nlh : messages) {
    SetPtr s(nftnl_set_alloc());
    if (nftnl_set_elems_nlmsg_parse(nlh, s.get()) < 0) return ParseError("NEWSETELEM");
    internal::SetElemsIterPtr it(nftnl_set_elems_iter_create(s.get()));
    for (nftnl_set_elem* e = nftnl_set_elems_iter_next(it.get()); e != nullptr;
         e = nftnl_set_elems_iter_next(it.get())) {
      QNET_ASSIGN_OR_RETURN(RawElement r, DecodeElement(e));
      raw.push_back(std::move(r));
    }
  }
  if (set.interval && set.key.size() == 1) return MergeRanges(std::move(raw));
  std::vector<SetElement> out;
  out.reserve(raw.size());
  for (RawElement& r : raw) {
    if (r.el.key_end && *r.el.key_end == r.el.key) r.el.key_end.reset();
    out.push_back(std::move(r.el));
  }
  return out;
}

Result<CounterState> DecodeCounter(const nlmsghdr* nlh) {
  ObjPtr o(nftnl_obj_alloc());
  if (nftnl_obj_nlmsg_parse(nlh, o.get()) < 0) return ParseError("NEWOBJ");
  const char* name = nftnl_obj_get_str(o.get(), NFTNL_OBJ_NAME);
  if (name == nullptr || nftnl_obj_get_u32(o.get(), NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER)
    return ParseError("NEWOBJ (not a named counter)");
  CounterState st;
  st.name = name;
  st.handle = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_HANDLE);
  st.packets = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_CTR_PKTS);
  st.bytes = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_CTR_BYTES);
  return st;
}

}  // namespace qnet::nft
