// Expr <-> libnftnl expression (private to the nft library).
#pragma once

#include <linux/netlink.h>

#include "nftnl_ptr.h"
#include "qnet/nft/ruleset.h"

namespace qnet::nft::internal {

// Appends e to a rule message as the kernel reads it (NFTA_LIST_ELEM with
// its name and data). The caller has room for it (~1 KiB is generous).
// false for Unsupported, which Batch refuses before encoding.
bool PutExpr(nlmsghdr* nlh, const Expr& e);

// The Expr for a parsed kernel expression; Unsupported{"<name> ..."} for a
// kind or a variant of a kind qnet does not model.
Expr DecodeExpr(const nftnl_expr* e);

// Verdict codes <-> the kernel's verdict numbers (NF_ACCEPT, NFT_JUMP, ...).
int VerdictToKernel(VerdictCode c);
bool VerdictFromKernel(int v, VerdictCode* out);

}  // namespace qnet::nft::internal
