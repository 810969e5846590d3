// qnet-agent: the process inside each qube. `init` is the qube's PID 1;
// `agent` is the agent proper, which init runs and restarts. The composition
// root: the real kernel, resolver and clock are chosen here.
#include <unistd.h>

#include <cstdlib>

#include "agent.h"
#include "init.h"
#include "qnet/base/log.h"
#include "qnet/vpn/wg_genl.h"
#include "resolver.h"

int main(int argc, char** argv) {
  auto opts = qnet::agent::ParseOptions(argc, argv);
  if (!opts) {
    fmt::print(stderr, "qnet-agent: {}\n", opts.error().message());
    return 2;
  }
  qnet::InitLogging(opts->mode == "init" ? "qnet-init" : "qnet-agent");
  if (opts->mode == "init") return qnet::agent::RunInit(*opts, "/proc/self/exe");
  // The init's word for the qube's id base; not passed on to what the agent runs.
  if (const char* base = std::getenv(qnet::agent::kIdBaseEnv)) {
    opts->id_base = static_cast<uint32_t>(std::strtoul(base, nullptr, 10));
    ::unsetenv(qnet::agent::kIdBaseEnv);
  }
  auto nf = qnet::netlink::Socket::Open(NETLINK_NETFILTER);
  if (!nf) {
    spdlog::error("qube {}: agent start: {}", opts->qube, nf.error().message());
    return 1;
  }
  qnet::nft::SocketCommitter nft(*nf);
  // The vpn role's automatic backend: the kernel's when its WireGuard
  // family answers, else wireguard-go.
  bool kernel_wg = false;
  if (auto genl = qnet::netlink::Socket::Open(NETLINK_GENERIC))
    kernel_wg = qnet::vpn::KernelWg::Open(std::move(*genl)).has_value();
  const qnet::SystemClock clock;
  return qnet::agent::Agent(std::move(*opts), {.nf = *nf,
                                               .nft = nft,
                                               .resolve = qnet::agent::ResolveName,
                                               .clock = clock,
                                               .kernel_wireguard = kernel_wg})
      .Run();
}
