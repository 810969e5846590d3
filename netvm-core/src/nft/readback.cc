#include "qnet/nft/readback.h"

#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>

#include "nftnl_ptr.h"
#include "nl_io.h"
#include "qnet/nft/decode.h"

namespace qnet::nft {
namespace {

using internal::ChainPtr;
using internal::GenPtr;
using internal::ObjPtr;
using internal::RulePtr;
using internal::SetPtr;
using internal::TablePtr;

// A generation change between the first and last request means a commit
// raced the dump; a few retries always settle when nothing reloads in a loop.
constexpr int kReadAttempts = 5;
// NFTA_{CHAIN,RULE,SET,OBJ,SET_ELEM_LIST}_TABLE all have this number.
constexpr uint16_t kTableAttr = 1;

// The table a NEW* message belongs to ("" if absent).
std::string MessageTable(const nlmsghdr* nlh) {
  std::string table;
  auto cb = [](const nlattr* attr, void* data) -> int {
    if (mnl_attr_get_type(attr) == kTableAttr && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
      *static_cast<std::string*>(data) = mnl_attr_get_str(attr);
    return MNL_CB_OK;
  };
  mnl_attr_parse(nlh, sizeof(nfgenmsg), cb, &table);
  return table;
}

// One request at a time on the socket: builds it with a fresh seq, sends it
// and reads the answers (a reply then an ACK, or a dump ending in DONE).
class Requester {
 public:
  explicit Requester(netlink::Socket& sock) : sock_(sock), buf_(MNL_SOCKET_BUFFER_SIZE) {}

  // Calls on_msg for every reply of table (every reply when table is empty).
  Status Run(uint16_t type, Family family, uint16_t flags, const std::string& what,
             const std::function<void(nlmsghdr*)>& fill, const std::string& table,
             const std::function<Status(const nlmsghdr*)>& on_msg) {
    const uint32_t seq = sock_.NextSeq();
    nlmsghdr* nlh =
        nftnl_nlmsg_build_hdr(buf_.data(), type, static_cast<uint16_t>(family), flags, seq);
    if (fill) fill(nlh);
    QNET_TRY(sock_.Send(nlh, nlh->nlmsg_len));
    const int fd = mnl_socket_get_fd(sock_.get());
    for (;;) {
      Result<size_t> n = internal::RecvDatagram(fd, rx_, 0);
      if (!n) return Fail(n.error().Wrap(what));
      int left = static_cast<int>(*n);
      for (auto* m = reinterpret_cast<const nlmsghdr*>(rx_.data()); mnl_nlmsg_ok(m, left);
           m = mnl_nlmsg_next(m, &left)) {
        // Answers to an earlier request (given up on after an error) are not ours.
        if (m->nlmsg_seq != seq || m->nlmsg_pid != sock_.port_id()) continue;
        if (m->nlmsg_type == NLMSG_ERROR || m->nlmsg_type == NLMSG_DONE) return End(m, what);
        if (m->nlmsg_flags & NLM_F_DUMP_INTR) interrupted_ = true;
        if (!table.empty() && MessageTable(m) != table) continue;
        QNET_TRY(on_msg(m));
      }
    }
  }
  bool interrupted() const { return interrupted_; }

 private:
  // The ACK or DONE that ends a request; both may carry an error code.
  static Status End(const nlmsghdr* m, const std::string& what) {
    int err = 0;
    if (m->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
      err = *static_cast<const int*>(mnl_nlmsg_get_payload(m));
    if (err == 0) return OkStatus();
    return Fail(Error(Errc::kNetlink, fmt::format("{}: {}", what, std::strerror(-err)), -err));
  }

  netlink::Socket& sock_;
  std::vector<char> buf_;
  std::vector<char> rx_;
  bool interrupted_ = false;
};

Result<uint32_t> GenerationId(Requester& req) {
  uint32_t id = 0;
  QNET_TRY(req.Run(NFT_MSG_GETGEN, Family::kInet, NLM_F_ACK, "nft: get generation", nullptr, "",
                   [&](const nlmsghdr* m) -> Status {
                     GenPtr g(nftnl_gen_alloc());
                     if (nftnl_gen_nlmsg_parse(m, g.get()) < 0)
                       return Fail(Errc::kProtocol, "nft: cannot parse NEWGEN message");
                     id = nftnl_gen_get_u32(g.get(), NFTNL_GEN_ID);
                     return OkStatus();
                   }));
  return id;
}

Result<uint64_t> GetTable(Requester& req, Family family, const std::string& name) {
  uint64_t handle = 0;
  auto fill = [&](nlmsghdr* nlh) {
    TablePtr t(nftnl_table_alloc());
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
    nftnl_table_nlmsg_build_payload(nlh, t.get());
  };
  Status s = req.Run(NFT_MSG_GETTABLE, family, NLM_F_ACK,
                     fmt::format("nft: table {} {}", FamilyName(family), name), fill, "",
                     [&](const nlmsghdr* m) -> Status {
                       TablePtr t(nftnl_table_alloc());
                       if (nftnl_table_nlmsg_parse(m, t.get()) < 0)
                         return Fail(Errc::kProtocol, "nft: cannot parse NEWTABLE message");
                       handle = nftnl_table_get_u64(t.get(), NFTNL_TABLE_HANDLE);
                       return OkStatus();
                     });
  if (!s.ok() && s.error().sys_errno() == ENOENT)
    return Fail(Errc::kNotFound, s.error().message(), ENOENT);
  if (!s.ok()) return Fail(s.error());
  return handle;
}

Status DumpChains(Requester& req, TableState& st) {
  return req.Run(NFT_MSG_GETCHAIN, st.table.family, NLM_F_DUMP, "nft: dump chains", nullptr,
                 st.table.name, [&](const nlmsghdr* m) -> Status {
                   QNET_ASSIGN_OR_RETURN(ChainState c, DecodeChain(m));
                   st.chains.push_back(std::move(c));
                   return OkStatus();
                 });
}

Status DumpRules(Requester& req, TableState& st) {
  std::map<std::string, size_t, std::less<>> index;
  for (size_t i = 0; i < st.chains.size(); ++i) index[st.chains[i].chain.name] = i;
  auto fill = [&](nlmsghdr* nlh) {
    RulePtr r(nftnl_rule_alloc());
    nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, st.table.name.c_str());
    nftnl_rule_nlmsg_build_payload(nlh, r.get());
  };
  return req.Run(NFT_MSG_GETRULE, st.table.family, NLM_F_DUMP, "nft: dump rules", fill,
                 st.table.name, [&](const nlmsghdr* m) -> Status {
                   QNET_ASSIGN_OR_RETURN(RuleState r, DecodeRule(m));
                   auto it = index.find(r.rule.chain);
                   // A chain added after the chain dump; the generation check retries.
                   if (it == index.end()) return OkStatus();
                   st.chains[it->second].rules.push_back(std::move(r));
                   return OkStatus();
                 });
}

Status DumpElements(Requester& req, const TableState& st, SetState& set) {
  // Dump replies are parsed after Run returns; keep copies of the messages.
  std::vector<std::vector<uint8_t>> copies;
  auto fill = [&](nlmsghdr* nlh) {
    SetPtr s(nftnl_set_alloc());
    nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, st.table.name.c_str());
    nftnl_set_set_str(s.get(), NFTNL_SET_NAME, set.set.name.c_str());
    nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
  };
  QNET_TRY(req.Run(NFT_MSG_GETSETELEM, st.table.family, NLM_F_DUMP,
                   fmt::format("nft: dump elements of set {}", set.set.name), fill, st.table.name,
                   [&](const nlmsghdr* m) -> Status {
                     const auto* p = reinterpret_cast<const uint8_t*>(m);
                     copies.emplace_back(p, p + m->nlmsg_len);
                     return OkStatus();
                   }));
  std::vector<const nlmsghdr*> msgs;
  for (const auto& c : copies) msgs.push_back(reinterpret_cast<const nlmsghdr*>(c.data()));
  QNET_ASSIGN_OR_RETURN(set.elements, DecodeSetElements(set.set, msgs));
  return OkStatus();
}

Status DumpSets(Requester& req, TableState& st) {
  auto fill = [&](nlmsghdr* nlh) {
    SetPtr s(nftnl_set_alloc());
    nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, st.table.name.c_str());
    nftnl_set_nlmsg_build_payload(nlh, s.get());
  };
  QNET_TRY(req.Run(NFT_MSG_GETSET, st.table.family, NLM_F_DUMP, "nft: dump sets", fill,
                   st.table.name, [&](const nlmsghdr* m) -> Status {
                     QNET_ASSIGN_OR_RETURN(SetState s, DecodeSet(m));
                     st.sets.push_back(std::move(s));
                     return OkStatus();
                   }));
  for (SetState& s : st.sets) QNET_TRY(DumpElements(req, st, s));
  return OkStatus();
}

Status DumpCounters(Requester& req, TableState& st) {
  auto fill = [&](nlmsghdr* nlh) {
    ObjPtr o(nftnl_obj_alloc());
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, st.table.name.c_str());
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nftnl_obj_nlmsg_build_payload(nlh, o.get());
  };
  return req.Run(NFT_MSG_GETOBJ, st.table.family, NLM_F_DUMP, "nft: dump counters", fill,
                 st.table.name, [&](const nlmsghdr* m) -> Status {
                   QNET_ASSIGN_OR_RETURN(CounterState c, DecodeCounter(m));
                   st.counters.push_back(std::move(c));
                   return OkStatus();
                 });
}

Result<TableState> ReadOnce(Requester& req, Family family, const std::string& name) {
  TableState st;
  st.table = Table{family, name};
  QNET_ASSIGN_OR_RETURN(st.handle, GetTable(req, family, name));
  QNET_TRY(DumpChains(req, st));
  QNET_TRY(DumpRules(req, st));
  QNET_TRY(DumpSets(req, st));
  QNET_TRY(DumpCounters(req, st));
  return st;
}

template <typename T>
const T* FindByName(const std::vector<T>& v, std::string_view name, auto name_of) {
  for (const T& x : v)
    if (name_of(x) == name) return &x;
  return nullptr;
}

}  // namespace

const ChainState* TableState::FindChain(std::string_view name) const {
  return FindByName(chains, name,
                    [](const ChainState& c) -> const std::string& { return c.chain.name; });
}
const SetState* TableState::FindSet(std::string_view name) const {
  return FindByName(sets, name, [](const SetState& s) -> const std::string& { return s.set.name; });
}
const CounterState* TableState::FindCounter(std::string_view name) const {
  return FindByName(counters, name,
                    [](const CounterState& c) -> const std::string& { return c.name; });
}

Result<TableState> ReadTable(netlink::Socket& nfsock, Family family, std::string_view name) {
  const std::string table(name);
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    Requester req(nfsock);
    QNET_ASSIGN_OR_RETURN(uint32_t gen_before, GenerationId(req));
    QNET_ASSIGN_OR_RETURN(TableState st, ReadOnce(req, family, table));
    QNET_ASSIGN_OR_RETURN(uint32_t gen_after, GenerationId(req));
    if (gen_before == gen_after && !req.interrupted()) return st;
  }
  return Fail(Errc::kUnavailable, fmt::format("nft: table {} {} kept changing during {} reads",
                                              FamilyName(family), table, kReadAttempts));
}

Result<bool> TableExists(netlink::Socket& nfsock, Family family, std::string_view name) {
  Requester req(nfsock);
  Result<uint64_t> h = GetTable(req, family, std::string(name));
  if (h) return true;
  if (h.error().code() == Errc::kNotFound) return false;
  return Fail(h.error());
}

}  // namespace qnet::nft
