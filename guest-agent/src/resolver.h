// Name resolution for hostname firewall rules, inside the enforcing qube
// (docs/architecture.md "qnetd and the agents"): glibc's res_nquery against the qube's
// own /etc/resolv.conf, because the compiler needs each record's TTL
// (getaddrinfo gives none).
#pragma once

#include <string>

#include "qnet/firewall/compiler.h"

namespace qnet::agent {

// A and (when ipv6) AAAA records of `name`. Blocks for at most a few
// seconds (short retransmit, two tries). Not resolved: ok = false and the
// reason in error; a name with no address records is not resolved either,
// nor is one whose A or AAAA query failed (timeout, SERVFAIL, REFUSED) while
// the other answered: a family's addresses are either known or the name is
// unresolved. "No such name" and "no records of this type" are answers.
firewall::Resolution ResolveName(const std::string& name, bool ipv6);

}  // namespace qnet::agent
