// qnet-agent: the process inside each qube. `init` is the qube's PID 1;
// `agent` is the agent proper, which init runs and restarts.
#include <unistd.h>

#include "agent.h"
#include "init.h"
#include "qnet/base/log.h"

int main(int argc, char** argv) {
  auto opts = qnet::agent::ParseOptions(argc, argv);
  if (!opts) {
    fmt::print(stderr, "qnet-agent: {}\n", opts.error().message());
    return 2;
  }
  qnet::InitLogging(opts->mode == "init" ? "qnet-init" : "qnet-agent");
  if (opts->mode == "init") return qnet::agent::RunInit(*opts, "/proc/self/exe");
  return qnet::agent::Agent(std::move(*opts)).Run();
}
