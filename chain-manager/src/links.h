// Links between namespaces, created from inside them (never in the root
// namespace): the veth of a Qubes vif, and the lab's own wiring.
#pragma once

#include <string>

#include "qnet/base/ip.h"
#include "qnet/base/result.h"

namespace qnet::chain {

struct VifLink {
  int netvm_netns_fd = -1;
  int client_netns_fd = -1;
  std::string vif;            // netvm side, "vif<N>.0", MAC fe:ff:ff:ff:ff:ff
  std::string client_ifname;  // "eth0"
};

// Creates the pair inside the netvm's namespace with the peer created
// directly in the client's; both ends stay down.
Status CreateVifLink(const VifLink& link);
// Sets an interface up inside a namespace.
Status SetUpInNetns(int netns_fd, const std::string& ifname);

}  // namespace qnet::chain
