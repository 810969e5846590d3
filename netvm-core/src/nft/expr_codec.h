// Expr <-> libnftnl expression (private to the nft library).
#pragma once

#include "nftnl_ptr.h"
#include "qnet/nft/ruleset.h"

namespace qnet::nft::internal {

// The libnftnl expression for e; nullptr for Unsupported (Batch refuses
// those before encoding).
ExprPtr EncodeExpr(const Expr& e);

// The Expr for a parsed kernel expression; Unsupported{"<name> ..."} for a
// kind or a variant of a kind qnet does not model.
Expr DecodeExpr(const nftnl_expr* e);

// Verdict codes <-> the kernel's verdict numbers (NF_ACCEPT, NFT_JUMP, ...).
int VerdictToKernel(VerdictCode c);
bool VerdictFromKernel(int v, VerdictCode* out);

}  // namespace qnet::nft::internal
