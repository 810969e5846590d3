// firewall_load_synthetic: adds (or removes) synthetic downstream clients
// and their 10 Qubes rules each to a running netvm's firewall, in ONE
// transaction, for tests/bench/firewall_path.sh. Each client goes in as the
// agent's own one-client update would put it (CompileClient +
// FirewallClientBatch), so it gets its chain, counter and verdict-map
// entries beside the real clients, which are not touched.
//
//   firewall_load_synthetic --netns /run/netns/qb-fw-sys-firewall --count 999 --add
//   firewall_load_synthetic --netns /run/netns/qb-fw-sys-firewall --count 999 --remove
//
// Ids default to the top of the qube id range (kMaxQubeId - count + 1 ..
// kMaxQubeId), far from the ids qnet gives real qubes (from 1 upward). The
// agent does not know these clients: a full firewall reinstall (a chain
// reconfigured) would leave their chains unreferenced; the benchmark only
// edits the real qube's rules, which touches nothing else. Only nftables
// in the given namespace changes; no interface, route or packet.
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/netlink.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"
#include "qnet/firewall/compiler.h"
#include "qnet/firewall/install_batch.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/transaction.h"
#include "qnet/qube/address.h"
#include "synthetic_clients.h"

namespace qnet::bench {
namespace {

constexpr uint32_t kMaxCount = 5000;

struct Options {
  std::string netns;
  uint32_t count = 999;
  uint32_t first_id = 0;  // 0: the top of the id range
  bool add = false;
  bool remove = false;
};

Result<size_t> Load(const Options& o) {
  const uint32_t first = o.first_id ? o.first_id : qube::kMaxQubeId - o.count + 1;
  if (first < qube::kMinQubeId || first + o.count - 1 > qube::kMaxQubeId)
    return Fail(Errc::kInvalidArgument, "ids out of the qube id range");
  QNET_ASSIGN_OR_RETURN(std::vector<firewall::Client> clients, SyntheticClients(first, o.count));
  nft::Batch batch;
  size_t rules = 0;
  for (const firewall::Client& c : clients) {
    QNET_ASSIGN_OR_RETURN(firewall::ClientRules compiled,
                          firewall::CompileClient(c, {}, std::time(nullptr)));
    rules += compiled.rules.size();
    const firewall::ClientRules none{.id = c.id, .name = c.name};
    batch.Append(o.add ? firewall::FirewallClientBatch(none, compiled)
                       : firewall::FirewallClientBatch(compiled, none));
  }
  QNET_TRY(batch.status());
  UniqueFd ns(::open(o.netns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) return Fail(ErrnoError(fmt::format("open {}", o.netns), errno));
  QNET_ASSIGN_OR_RETURN(netlink::Socket nf,
                        netlink::Socket::OpenInNetns(NETLINK_NETFILTER, ns.get()));
  QNET_TRY(nft::Commit(nf, batch, std::chrono::seconds(30)));
  return rules;
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"firewall_load_synthetic: synthetic firewall clients in a netvm, one transaction"};
  app.add_option("--netns", o.netns, "the netvm's pinned namespace, /run/netns/...")->required();
  app.add_option("--count", o.count, "clients (1-5000), 10 rules each")->capture_default_str();
  app.add_option("--first-id", o.first_id, "first qube id (default: top of the range)");
  app.add_flag("--add", o.add, "add the clients");
  app.add_flag("--remove", o.remove, "remove them (as added with the same --count/--first-id)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (o.add == o.remove || o.count < 1 || o.count > kMaxCount ||
      o.netns.rfind("/run/netns/", 0) != 0) {
    std::fprintf(stderr,
                 "firewall_load_synthetic: give --add or --remove, --count 1-%u, and --netns "
                 "/run/netns/NAME\n",
                 kMaxCount);
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto n = Load(o);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!n) {
    std::fprintf(stderr, "firewall_load_synthetic: %s\n", n.error().message().c_str());
    return 1;
  }
  std::printf("%s %u synthetic clients (%zu nft rules) in %s, one transaction, %.1f ms\n",
              o.add ? "added" : "removed", o.count, *n, o.netns.c_str(), ms);
  return 0;
}

}  // namespace
}  // namespace qnet::bench

int main(int argc, char** argv) { return qnet::bench::Main(argc, argv); }
