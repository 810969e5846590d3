// Owners for libnftnl handles (private to the nft library).
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include <memory>

namespace qnet::nft::internal {

struct NftnlDeleter {
  void operator()(nftnl_table* p) const { nftnl_table_free(p); }
  void operator()(nftnl_chain* p) const { nftnl_chain_free(p); }
  void operator()(nftnl_rule* p) const { nftnl_rule_free(p); }
  void operator()(nftnl_set* p) const { nftnl_set_free(p); }
  void operator()(nftnl_set_elem* p) const { nftnl_set_elem_free(p); }
  void operator()(nftnl_obj* p) const { nftnl_obj_free(p); }
  void operator()(nftnl_gen* p) const { nftnl_gen_free(p); }
  void operator()(nftnl_expr_iter* p) const { nftnl_expr_iter_destroy(p); }
  void operator()(nftnl_set_elems_iter* p) const { nftnl_set_elems_iter_destroy(p); }
};

using TablePtr = std::unique_ptr<nftnl_table, NftnlDeleter>;
using ChainPtr = std::unique_ptr<nftnl_chain, NftnlDeleter>;
using RulePtr = std::unique_ptr<nftnl_rule, NftnlDeleter>;
using SetPtr = std::unique_ptr<nftnl_set, NftnlDeleter>;
using SetElemPtr = std::unique_ptr<nftnl_set_elem, NftnlDeleter>;
using ObjPtr = std::unique_ptr<nftnl_obj, NftnlDeleter>;
using GenPtr = std::unique_ptr<nftnl_gen, NftnlDeleter>;
using ExprIterPtr = std::unique_ptr<nftnl_expr_iter, NftnlDeleter>;
using SetElemsIterPtr = std::unique_ptr<nftnl_set_elems_iter, NftnlDeleter>;

}  // namespace qnet::nft::internal
