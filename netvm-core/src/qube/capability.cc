#include "qnet/qube/capability.h"

#include <map>

namespace qnet::qube {

nft::Batch ReplaceBatch(const CapabilityRules& rules) {
  std::map<std::string, std::vector<nft::Rule>> chains;
  for (const std::string& name : rules.chains) chains[name];
  for (const nft::Rule& r : rules.rules) chains[r.chain].push_back(r);
  return nft::ReplaceChainsBatch(std::move(chains), std::vector<nft::SetContents>(rules.sets));
}

}  // namespace qnet::qube
