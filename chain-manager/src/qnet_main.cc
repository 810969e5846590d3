// qnet: the command line of qnet, modelled on qvm-* tools. It talks to the
// instance's qnetd over its root-only socket.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "client.h"
#include "dispvm_cli.h"
#include "firewall_cli.h"
#include "ls_format.h"
#include "policy_cli.h"
#include "qnet/base/fd.h"
#include "qnet/base/process.h"
#include "qnet/chain/backend.h"
#include "template_cli.h"
#include "tor_cli.h"

namespace qnet::chain {
namespace {

struct Args {
  std::string instance;
  std::string file;
  std::string qube;
  bool all = false, recursive = false, json = false, root = false, unsafe = false;
  std::vector<std::string> command;
  std::string svg;
  int count = 1;
  FirewallArgs fw;      // `qnet firewall QUBE OP ...`
  bool reload = false;  // firewall --reload
  DispvmArgs dispvm;    // `qnet dispvm ... -- CMD`
  TemplateArgs tmpl;    // `qnet template OP ...`
  std::string tor_op;   // `qnet tor QUBE status|circuits|newnym`
  int wait = 0;         // tor status --wait SECONDS
};

// Prints a call's output and returns the exit code the CLI should exit with.
int Finish(const Result<qrexec::CallResult>& r) {
  if (!r) {
    fmt::print(stderr, "qnet: {}\n", r.error().message());
    return 1;
  }
  fmt::print("{}", r->stdout_data);
  if (!r->stderr_data.empty()) fmt::print(stderr, "qnet: {}", r->stderr_data);
  return r->exit_code;
}

int CallDaemon(const Instance& inst, bool start, const std::string& service,
               const nlohmann::json& input) {
  auto ch = ConnectDaemon(inst, start);
  if (!ch) {
    fmt::print(stderr, "qnet: {}\n", ch.error().message());
    return 1;
  }
  return Finish(AdminCall(*ch, service, input.dump()));
}

int CmdUp(const Instance& inst, const Args& a) {
  auto text = ReadFile(a.file);
  if (!text) {
    fmt::print(stderr, "qnet: {}\n", text.error().message());
    return 1;
  }
  return CallDaemon(inst, true, "admin.Up", {{"path", a.file}, {"text", *text}});
}

int CmdDown(const Instance& inst, const Args& a) {
  if (a.all == !a.qube.empty()) {
    fmt::print(stderr, "qnet: down: give a QUBE or --all\n");
    return 2;
  }
  auto ch = ConnectDaemon(inst, false);
  if (!ch && a.all) {
    // No qnetd (it crashed or was killed): clean up from the records alone.
    CleanupReport r = MakeBackend(kDefaultBackend, inst)
                          .value()
                          ->CleanupInstance(
                              /*keep_daemon_files=*/false);
    for (const auto& e : r.errors) fmt::print(stderr, "qnet: {}\n", e);
    fmt::print("down: {} namespaces removed (no qnetd was running)\n", r.namespaces_removed);
    return r.errors.empty() ? 0 : 1;
  }
  if (!ch) return Finish(Fail(ch.error()));
  int code = Finish(AdminCall(*ch, "admin.Down",
                              nlohmann::json{{"qube", a.qube}, {"recursive", a.recursive}}.dump()));
  if (a.all && code == 0) {
    // qnetd exits after answering; return only once it is gone, so that
    // `down --all` leaves no process behind when it returns.
    for (int i = 0; i < 500 && ::access(inst.socket_path().c_str(), F_OK) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return code;
}

int CmdStart(const Instance& inst, const Args& a) {
  return CallDaemon(inst, false, "admin.Start", {{"qube", a.qube}});
}

int CmdRestart(const Instance& inst, const Args& a) {
  return CallDaemon(inst, false, "admin.Restart", {{"qube", a.qube}});
}

int CmdLs(const Instance& inst, const Args& a) {
  auto ch = ConnectDaemon(inst, ::access(inst.state_file().c_str(), F_OK) == 0);
  if (!ch) {
    if (a.json)
      fmt::print("[]\n");
    else
      fmt::print("no chain is up (instance {})\n", inst.name());
    return 0;
  }
  auto r = AdminCall(*ch, "admin.List", "{}");
  if (!r || r->exit_code != 0) return Finish(r);
  if (a.json) {
    fmt::print("{}\n", r->stdout_data);
    return 0;
  }
  auto table = FormatQubeTable(r->stdout_data, ::isatty(1));
  if (!table) return Finish(Fail(table.error()));
  fmt::print("{}", *table);
  return 0;
}

int CmdExec(const Instance& inst, const Args& a) {
  auto ch = ConnectDaemon(inst, false);
  if (!ch) return Finish(Fail(ch.error()));
  nlohmann::json in = {{"qube", a.qube}, {"argv", a.command}, {"root", a.root}};
  auto r = AdminCall(*ch, "admin.Exec", in.dump(), {0, 1, 2}, /*long_running=*/true);
  if (!r) return Finish(r);
  if (!r->stderr_data.empty()) fmt::print(stderr, "qnet: {}", r->stderr_data);
  return r->exit_code;
}

int CmdGraph(const Instance& inst, const Args& a) {
  auto ch = ConnectDaemon(inst, false);
  if (!ch) return Finish(Fail(ch.error()));
  auto r = AdminCall(*ch, "admin.Graph", "{}");
  if (!r || r->exit_code != 0 || a.svg.empty()) return Finish(r);
  // Render with Graphviz if it is installed: dot reads the DOT on stdin.
  std::string dot_file = a.svg + ".dot";
  if (Status s = WriteFile(dot_file, r->stdout_data); !s) return Finish(Fail(s.error()));
  auto out = RunCapture({"dot", "-Tsvg", "-o", a.svg, dot_file});
  ::unlink(dot_file.c_str());
  if (!out) {
    fmt::print(stderr, "qnet: graph --svg needs Graphviz (apt-get install graphviz): {}\n",
               out.error().message());
    return 1;
  }
  fmt::print("wrote {}\n", a.svg);
  return 0;
}

int CmdSave(const Instance& inst, const Args& a) {
  auto ch = ConnectDaemon(inst, false);
  if (!ch) return Finish(Fail(ch.error()));
  auto r = AdminCall(*ch, "admin.Save", "{}");
  if (!r || r->exit_code != 0) return Finish(r);
  if (Status s = WriteFileAtomic(a.file, r->stdout_data, 0644); !s) return Finish(Fail(s.error()));
  fmt::print("saved chain to {}\n", a.file);
  return 0;
}

#ifdef QNET_TEST_HOOKS
int CmdTestReload(const Instance& inst, const Args& a) {
  return CallDaemon(inst, false, "admin.TestReload",
                    {{"qube", a.qube}, {"count", a.count}, {"unsafe", a.unsafe}});
}
#endif

// `set FILE`'s text ('-': stdin).
Result<std::string> ReadRuleText(const std::string& path) {
  if (path != "-") return ReadFile(path);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(0, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  if (n < 0) return Fail(ErrnoError("read stdin", errno));
  return text;
}

int CmdFirewall(const Instance& inst, const Args& a) {
  std::string text;
  if (a.fw.op == "set") {
    auto t = ReadRuleText(a.file);
    if (!t) return Finish(Fail(t.error()));
    text = std::move(*t);
  }
  auto in = FirewallRequest(a.fw, a.file == "-" ? "stdin" : a.file, text);
  if (!in) {
    fmt::print(stderr, "qnet: {}\n", in.error().message());
    return 2;
  }
  // --reload: the netvm applies the list again, then the operation runs.
  if (a.reload && a.fw.op != "apply") {
    FirewallArgs apply{.qube = a.fw.qube, .op = "apply"};
    auto ch = ConnectDaemon(inst, true);
    if (!ch) return Finish(Fail(ch.error()));
    auto r = AdminCall(*ch, "admin.Firewall", FirewallRequest(apply)->dump());
    if (!r || r->exit_code != 0) return Finish(r);
  }
  return CallDaemon(inst, true, "admin.Firewall", *in);
}

// `qnet tor QUBE OP`: admin.Tor; status and circuits formatted unless --json;
// status --wait redraws the bootstrap bar until 100% (exit 1 on timeout).
int CmdTor(const Instance& inst, const Args& a) {
  auto ch = ConnectDaemon(inst, false);
  if (!ch) return Finish(Fail(ch.error()));
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(a.wait);
  const bool tty = ::isatty(1) == 1;
  for (;;) {
    auto r = AdminCall(*ch, "admin.Tor", nlohmann::json{{"qube", a.qube}, {"op", a.tor_op}}.dump());
    if (!r || r->exit_code != 0 || a.tor_op == "newnym" || (a.json && a.wait == 0))
      return Finish(r);
    const int progress = TorStatusProgress(r->stdout_data);
    const bool waiting = a.tor_op == "status" && a.wait > 0 && progress < 100;
    if (waiting && std::chrono::steady_clock::now() < until) {
      if (tty)
        fmt::print("\r{}: bootstrap {:3}% {}", a.qube, std::max(progress, 0),
                   ProgressBar(progress));
      std::fflush(stdout);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (tty && a.wait > 0) fmt::print("\r");
    if (a.json) {
      fmt::print("{}", r->stdout_data);
    } else {
      auto text = a.tor_op == "status" ? FormatTorStatus(r->stdout_data)
                                       : FormatTorCircuits(r->stdout_data);
      if (!text) return Finish(Fail(text.error()));
      fmt::print("{}", *text);
    }
    return waiting ? 1 : 0;
  }
}

int CmdRemove(const Instance& inst, const Args& a) {
  Status s = MakeBackend(kDefaultBackend, inst).value()->RemoveStorage(a.qube);
  if (!s) {
    fmt::print(stderr, "qnet: remove: {}\n", s.error().message());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace qnet::chain

int main(int argc, char** argv) {
  using namespace qnet::chain;
  CLI::App app{"qnet: Qubes-style network compartments and chains"};
  app.require_subcommand(1);
  Args a;
  app.add_option("--instance", a.instance, "instance (default $QNET_INSTANCE or qnet)");
  using Handler = int (*)(const Instance&, const Args&);
  std::vector<std::pair<CLI::App*, Handler>> table;

  auto* up = app.add_subcommand("up", "bring a chain up from a chain file");
  up->add_option("FILE", a.file, "chain file (TOML)")->required();
  table.emplace_back(up, CmdUp);
  auto* down = app.add_subcommand("down", "bring a qube, or everything, down");
  down->add_option("QUBE", a.qube);
  down->add_flag("--all", a.all, "the whole chain, the lab and qnetd");
  down->add_flag("--recursive", a.recursive, "also the qubes behind QUBE");
  table.emplace_back(down, CmdDown);
  auto* start = app.add_subcommand("start", "start a halted or dead qube of the chain again");
  start->add_option("QUBE", a.qube)->required();
  table.emplace_back(start, CmdStart);
  auto* restart = app.add_subcommand("restart", "stop a qube and start it again (its / is reset)");
  restart->add_option("QUBE", a.qube)->required();
  table.emplace_back(restart, CmdRestart);
  auto* ls = app.add_subcommand("ls", "list qubes");
  ls->add_flag("--json", a.json);
  table.emplace_back(ls, CmdLs);
  auto* exec = app.add_subcommand("exec", "run a command in a qube");
  exec->add_flag("--root", a.root, "as root with capabilities (debugging only)");
  exec->add_option("QUBE", a.qube)->required();
  exec->add_option("CMD", a.command)->required();
  exec->prefix_command(false);
  table.emplace_back(exec, CmdExec);
  auto* dispvm = app.add_subcommand("dispvm", "run a command in a new disposable qube");
  AddDispvmOptions(dispvm, a.dispvm);
  table.emplace_back(dispvm,
                     [](const Instance& i, const Args& a) { return RunDispvm(i, a.dispvm); });
  table.emplace_back(AddTemplateCommand(app, a.tmpl),
                     [](const Instance& i, const Args& a) { return RunTemplate(i, a.tmpl); });
  auto* remove = app.add_subcommand("remove", "delete a stopped qube's home and id range");
  remove->add_option("QUBE", a.qube)->required();
  table.emplace_back(remove, CmdRemove);
  auto* graph = app.add_subcommand("graph", "print the chain as Graphviz DOT");
  graph->add_option("--svg", a.svg, "render to an SVG file with dot");
  table.emplace_back(graph, CmdGraph);
  auto* save = app.add_subcommand("save", "write the running chain as a chain file");
  save->add_option("FILE", a.file)->required();
  table.emplace_back(save, CmdSave);
#ifdef QNET_TEST_HOOKS  // qnet-test only
  auto* reload = app.add_subcommand("test-reload", "(tests) reload a qube's rules N times");
  reload->group("");
  reload->add_option("QUBE", a.qube)->required();
  reload->add_option("COUNT", a.count)->required();
  reload->add_flag("--unsafe", a.unsafe, "delete and re-add the table (leaks; positive control)");
  table.emplace_back(reload, CmdTestReload);
#endif

  auto* fw = app.add_subcommand("firewall", "a qube's firewall rules (as qvm-firewall)");
  fw->add_option("QUBE", a.fw.qube)->required();
  fw->add_flag("--reload,-r", a.reload, "have the netvm apply the rules again");
  fw->add_flag("--raw", a.fw.raw, "list: one canonical rule per line (as qvm-firewall --raw)");
  fw->require_subcommand(0, 1);  // none: list
  // One row per operation: name, help, its options.
  struct FwRow {
    const char* name;
    const char* help;
    void (*options)(CLI::App*, Args&);
  };
  for (const FwRow& r : {
           FwRow{"list", "show the rules with hit counts",
                 [](CLI::App*sub, Args&a) {
                   sub->add_flag("--json", a.fw.json, "for scripts: the rules' fields, hits");
                   sub->add_flag("--raw", a.fw.raw, "one canonical rule per line");
                 }},
           FwRow{"add",
                 "add ONE rule: ACTION [DSTHOST [PROTO [DSTPORTS|ICMPTYPE]]] and/or key=value",
                 [](CLI::App*sub, Args&a) {
                   sub->add_option("--before", a.fw.before, "insert before rule N (0 = first)");
                   sub->add_flag("--rules", a.fw.several, "each argument is a whole rule");
                   sub->add_option("RULE", a.fw.words)->required();
                 }},
           FwRow{"del", "remove rule number N, or the rule RULE",
                 [](CLI::App*sub, Args&a) {
                   sub->add_option("--rule-no", a.fw.rule_no, "the rule's number (0 = first)");
                   sub->add_option("RULE", a.fw.words, "N, or the words of one rule");
                 }},
           FwRow{"set", "replace the list with the rules of FILE (one per line, - for stdin)",
                 [](CLI::App*sub, Args&a) { sub->add_option("FILE", a.file)->required(); }},
           FwRow{"reset", "back to the default (accept)", nullptr},
           FwRow{"apply", "apply the rules again", nullptr},
       }) {
    auto* sub = fw->add_subcommand(r.name, r.help);
    sub->callback([&a, name = std::string(r.name)] { a.fw.op = name; });
    if (r.options) r.options(sub, a);
  }
  table.emplace_back(fw, CmdFirewall);
  auto* tor = app.add_subcommand("tor", "a tor gateway's bootstrap, circuits and new identity");
  tor->add_option("QUBE", a.qube)->required();
  tor->add_option("OP", a.tor_op, "status (default), circuits, newnym")
      ->check(CLI::IsMember({"status", "circuits", "newnym"}))
      ->default_val("status");
  tor->add_flag("--json", a.json, "status, circuits: for scripts");
  tor->add_option("--wait", a.wait, "status: wait up to SECONDS for bootstrap 100%");
  table.emplace_back(tor, CmdTor);

  PolicyCheckArgs pc;
  auto* policy = app.add_subcommand("policy", "the qrexec policy");
  policy->require_subcommand(1);
  auto* check = policy->add_subcommand("check", "print the decision for a call and its rule");
  check->add_option("--policy-dir", pc.dir, "policy directory (default /etc/qnet/policy.d)");
  check->add_option("--tag", pc.tags, "QUBE=TAG: QUBE has tag TAG (repeatable)");
  check->add_option("--type", pc.types, "QUBE=TYPE: QUBE's type (default AppVM)");
  check->add_option("--default-dispvm", pc.dispvms, "QUBE=NAME: QUBE's @dispvm template");
  check->add_option("CALL", pc.call, "SERVICE[+ARG]")->required();
  check->add_option("SOURCE", pc.source)->required();
  check->add_option("TARGET", pc.target, "a qube, dom0, @default, @dispvm[:NAME]")->required();

  CLI11_PARSE(app, argc, argv);
  if (check->parsed()) return RunPolicyCheck(pc);  // reads files only: no root, no qnetd
  // `qnet firewall QUBE --reload` alone reloads, as qvm-firewall's does.
  if (fw->parsed() && fw->get_subcommands().empty() && a.reload) a.fw.op = "apply";
  if (::geteuid() != 0) {
    fmt::print(stderr, "qnet: must run as root (qnetd's socket is root-only)\n");
    return 1;
  }
  auto inst = Instance::FromFlagOrEnv(a.instance);
  if (!inst) {
    fmt::print(stderr, "qnet: {}\n", inst.error().message());
    return 2;
  }
  for (auto& [cmd, handler] : table)
    if (cmd->parsed()) return handler(*inst, a);
  return 2;
}
