#include "qnet/chain/instance.h"

#include <cstdlib>

namespace qnet::chain {

Result<Instance> Instance::Create(std::string name) {
  bool ok = !name.empty() && name.size() <= 24 && name[0] != '-';
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok)
    return Fail(
        Errc::kInvalidArgument,
        fmt::format("instance '{}': use 1-24 of a-z, 0-9 and '-', not starting with '-'", name));
  return Instance(std::move(name));
}

Result<Instance> Instance::FromFlagOrEnv(const std::string& flag) {
  if (!flag.empty()) return Create(flag);
  const char* env = std::getenv("QNET_INSTANCE");
  return Create(env && *env ? env : "qnet");
}

Instance Instance::UnderRoot(std::string root) const {
  Instance copy = *this;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  copy.root_ = std::move(root);
  return copy;
}

}  // namespace qnet::chain
