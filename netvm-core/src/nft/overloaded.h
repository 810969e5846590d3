// std::visit helper (private to the nft library).
#pragma once

namespace qnet::nft::internal {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace qnet::nft::internal
