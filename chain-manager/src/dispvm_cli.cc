#include "dispvm_cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "client.h"
#include "qnet/base/fd.h"

namespace qnet::chain {

void AddDispvmOptions(CLI::App* sub, DispvmArgs& a) {
  sub->add_option_function<std::string>(
      "--netvm", [&a](const std::string& v) { a.netvm = v; },
      "its netvm (default: the chain's firewall qube; '' for none)");
  sub->add_option("--label", a.label, "its label (default red)");
  sub->add_option("--template", a.template_name,
                  "its root filesystem: host (default), a template name or a path");
  // One rule per --firewall: the words after it belong to CMD.
  sub->add_option("--firewall", a.firewall,
                  "a firewall rule (repeat, in order; default: accept everything)")
      ->allow_extra_args(false);
  sub->add_option("CMD", a.command, "the command and its arguments (after --)")->required();
  sub->prefix_command(false);
}

nlohmann::json DispvmRequestJson(const DispvmArgs& a) {
  nlohmann::json j = {{"argv", a.command},
                      {"label", a.label},
                      {"template", a.template_name},
                      {"firewall", a.firewall}};
  j["netvm"] = a.netvm ? nlohmann::json(*a.netvm) : nlohmann::json(nullptr);
  return j;
}

int RunDispvm(const Instance& inst, const DispvmArgs& a) {
  return RunDispvmRequest(inst, DispvmRequestJson(a));
}

int RunDispvmRequest(const Instance& inst, const nlohmann::json& request) {
  auto ch = ConnectDaemon(inst, false);
  if (!ch) {
    fmt::print(stderr, "qnet: {}\n", ch.error().message());
    return 1;
  }
  int lifeline[2];
  if (::pipe2(lifeline, O_CLOEXEC) != 0) {
    fmt::print(stderr, "qnet: pipe: {}\n", std::strerror(errno));
    return 1;
  }
  UniqueFd read_end(lifeline[0]), write_end(lifeline[1]);
  auto r = AdminCall(*ch, "admin.Dispvm", request.dump(), {0, 1, 2, read_end.get()},
                     /*long_running=*/true);
  if (!r) {
    fmt::print(stderr, "qnet: {}\n", r.error().message());
    return 1;
  }
  if (!r->stderr_data.empty()) fmt::print(stderr, "qnet: {}", r->stderr_data);
  return r->exit_code;
}

}  // namespace qnet::chain
