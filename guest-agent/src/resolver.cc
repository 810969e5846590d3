// glibc's netinet/in.h must come before linux/in.h (pulled in by the nft
// headers through resolver.h): glibc then tells the kernel header to skip
// its duplicates; the other order does not compile.
// clang-format off
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <netdb.h>
#include <resolv.h>

#include "resolver.h"
// clang-format on

#include <fmt/format.h>

#include <array>
#include <cstring>

namespace qnet::agent {
namespace {

// Owns a resolver state (res_ninit reads resolv.conf afresh each time, so a
// rewritten resolv.conf is honoured).
class ResState {
 public:
  ResState() {
    std::memset(&state_, 0, sizeof(state_));
    ok_ = ::res_ninit(&state_) == 0;
    state_.retrans = 1;
    state_.retry = 2;
  }
  ~ResState() {
    if (ok_) ::res_nclose(&state_);
  }
  ResState(const ResState&) = delete;
  ResState& operator=(const ResState&) = delete;
  ResState(ResState&&) = delete;
  ResState& operator=(ResState&&) = delete;
  bool ok() const { return ok_; }
  res_state get() { return &state_; }

 private:
  struct __res_state state_;
  bool ok_ = false;
};

// One query's outcome. Only "no such name" and "no records of this type"
// are answers; a timeout, SERVFAIL, REFUSED or a malformed reply leave the
// type's addresses unknown.
struct Outcome {
  bool answered = true;
  std::string error;  // "" when records came back
};

const char* TypeName(int type) { return type == ns_t_a ? "A" : "AAAA"; }

// Appends the answers of one query type.
Outcome Query(ResState& rs, const std::string& name, int type,
              std::vector<firewall::ResolvedAddress>& out) {
  std::array<unsigned char, 4096> buf{};
  int n =
      ::res_nquery(rs.get(), name.c_str(), ns_c_in, type, buf.data(), static_cast<int>(buf.size()));
  if (n < 0) {
    const int h = rs.get()->res_h_errno;
    return {h == HOST_NOT_FOUND || h == NO_DATA,
            fmt::format("{}: {}", TypeName(type), ::hstrerror(h))};
  }
  ns_msg msg;
  if (::ns_initparse(buf.data(), n, &msg) < 0) {
    return {false, fmt::format("{}: malformed DNS reply", TypeName(type))};
  }
  for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
    ns_rr rr;
    if (::ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
      return {false, fmt::format("{}: malformed DNS answer", TypeName(type))};
    }
    if (ns_rr_type(rr) != type) continue;  // CNAMEs on the way
    const size_t len = ns_rr_rdlen(rr);
    std::string text(INET6_ADDRSTRLEN, '\0');
    if (type == ns_t_a && len == 4)
      ::inet_ntop(AF_INET, ns_rr_rdata(rr), text.data(), static_cast<socklen_t>(text.size()));
    else if (type == ns_t_aaaa && len == 16)
      ::inet_ntop(AF_INET6, ns_rr_rdata(rr), text.data(), static_cast<socklen_t>(text.size()));
    else
      continue;
    text.resize(std::strlen(text.c_str()));
    auto addr = IpAddr::Parse(text);
    if (!addr) continue;
    out.push_back({*addr, std::chrono::seconds(ns_rr_ttl(rr))});
  }
  return {};
}

}  // namespace

firewall::Resolution ResolveName(const std::string& name, bool ipv6) {
  firewall::Resolution r;
  ResState rs;
  if (!rs.ok()) {
    r.error = "resolver: cannot read /etc/resolv.conf";
    return r;
  }
  Outcome a4 = Query(rs, name, ns_t_a, r.addresses);
  Outcome a6 = ipv6 ? Query(rs, name, ns_t_aaaa, r.addresses) : Outcome{};
  // One type failing must not leave the other's addresses standing alone: a
  // drop rule would then hold for one family and open the other (contract
  // 9). The whole name is unresolved until both types have an answer.
  for (const Outcome* o : {&a4, &a6}) {
    if (o->answered) continue;
    r.addresses.clear();
    r.error = o->error;
    return r;
  }
  r.ok = !r.addresses.empty();
  if (!r.ok) {
    r.error = !a4.error.empty() ? a4.error : !a6.error.empty() ? a6.error : "no address records";
  }
  return r;
}

}  // namespace qnet::agent
