// `qnet dispvm [--netvm Q] [--label L] [--template T] [--firewall RULE]...
// -- CMD`: the CLI side. The request is a pure function of the arguments;
// Run passes the caller's stdio and a lifeline (a pipe whose write end only
// this process holds: when it dies, qnetd destroys the disposable).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "qnet/chain/instance.h"

namespace qnet::chain {

struct DispvmArgs {
  std::optional<std::string> netvm;  // unset: the default netvm; "": none
  std::string label = "red";
  std::string template_name;
  std::vector<std::string> firewall;
  std::vector<std::string> command;
};

// Registers the subcommand's options on `sub`, filling `a`.
void AddDispvmOptions(CLI::App* sub, DispvmArgs& a);

// admin.Dispvm's request (netvm null when unset).
nlohmann::json DispvmRequestJson(const DispvmArgs& a);

// Runs the command in a new disposable; returns its exit code (1 with a
// message on an error before it ran).
int RunDispvm(const Instance& inst, const DispvmArgs& a);
// The same with a request built by the caller (`qnet template run`).
int RunDispvmRequest(const Instance& inst, const nlohmann::json& request);

}  // namespace qnet::chain
