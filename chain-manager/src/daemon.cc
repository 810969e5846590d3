#include "daemon.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "cleanup.h"
#include "links.h"
#include "qnet/firewall/nft_names.h"
#include "qnet/base/log.h"
#include "qnet/agent/config.h"
#include "qnet/chain/lab.h"
#include "qnet/config/chain_file.h"
#include "qnet/config/topology.h"
#include "qnet/firewall/config_key.h"
#include "qnet/firewall/rule_parser.h"
#include "qnet/qrexec/frame.h"
#include "qnet/qube/label.h"
#include "qnet/qube/role.h"

namespace qnet::chain {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
constexpr milliseconds kCallTimeout = seconds(30);

int64_t UnixNow() {
  return std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Daemon::Daemon(Instance inst, DaemonOptions opts, config::KeyRegistry registry)
    : inst_(std::move(inst)), opts_(std::move(opts)), registry_(std::move(registry)) {}

Daemon::~Daemon() = default;

bool Daemon::empty() {
  std::lock_guard lock(mu_);
  return !spec_.has_value();
}

void Daemon::Detach() {
  std::lock_guard lock(mu_);
  if (lab_) lab_->Detach();
  lab_.release();  // NOLINT: the lab outlives this qnetd on purpose
  qubes_.clear();
}

Status Daemon::SaveStateLocked() {
  nlohmann::json j;
  j["chain_path"] = spec_ ? spec_->source_path : "";
  j["chain_text"] = spec_text_;
  j["qubes"] = nlohmann::json::array();
  for (const auto& [name, q] : qubes_)
    j["qubes"].push_back({{"name", name}, {"pid", q->init_pid()}, {"start_time", q->start_time()}});
  QNET_TRY(MakeDirs(inst_.state_dir(), 0700));
  return WriteFileAtomic(inst_.state_file(), j.dump(2), 0600);
}

Status Daemon::Restore() {
  std::lock_guard lock(mu_);
  auto text = ReadFile(inst_.state_file());
  if (!text) return OkStatus();  // nothing to adopt
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Fail(Errc::kInvalidArgument, fmt::format("{}: not JSON", inst_.state_file()));
  std::string chain_text = j.value("chain_text", "");
  if (chain_text.empty()) return OkStatus();
  QNET_ASSIGN_OR_RETURN(config::ChainSpec spec,
                        config::ParseChainText(chain_text, j.value("chain_path", ""), registry_));
  QNET_ASSIGN_OR_RETURN(Plan plan, BuildPlan(spec, UnixNow()));
  for (const auto& q : j.value("qubes", nlohmann::json::array())) {
    std::string name = q.value("name", "");
    auto adopted = QubeProcess::Adopt(inst_, name, q.value("pid", 0),
                                      q.value("start_time", 0ULL));
    if (!adopted) {
      spdlog::warn("not adopting {}: {}", name, adopted.error().message());
      continue;
    }
    qubes_[name] = std::move(*adopted);
    spdlog::info("adopted qube {}", name);
  }
  spec_ = std::move(spec);
  spec_text_ = chain_text;
  plan_ = std::move(plan);
  return OkStatus();
}

Result<std::string> Daemon::Up(const std::string& display_path, const std::string& text) {
  QNET_ASSIGN_OR_RETURN(config::ChainSpec spec,
                        config::ParseChainText(text, display_path, registry_));
  std::lock_guard lock(mu_);
  if (spec_)
    return Fail(Errc::kFailedPrecondition,
                fmt::format("chain '{}' is up; run `qnet down --all` first", spec_->name));
  Status s = UpLocked(spec, text);
  if (!s) {
    // Never leave half a chain behind: a failed `up` removes what it made.
    qubes_.clear();
    lab_.reset();
    plan_.reset();
    spec_.reset();
    spec_text_.clear();
    CleanupInstance(inst_, /*keep_daemon_files=*/true);
    return Fail(s.error());
  }
  return fmt::format("chain {} up: {} qubes\n", spec_->name, qubes_.size());
}

Status Daemon::UpLocked(const config::ChainSpec& spec, const std::string& text) {
  QNET_ASSIGN_OR_RETURN(Plan plan, BuildPlan(spec, UnixNow()));
  QNET_TRY(MakeDirs(inst_.runtime_dir(), 0700));
  if (plan.lab) {
    QNET_ASSIGN_OR_RETURN(lab_, LabRuntime::Start(inst_, opts_.bin_dir + "/qnet-lab", plan.ipv6));
  }
  // Spawn every qube at once; each agent locks its qube down on its own.
  for (const QubePlan& q : plan.qubes) {
    SpawnParams p{.name = q.spec.name, .ipv6 = plan.ipv6,
                  .hold_lockdown_seconds = q.spec.name == opts_.hold_qube ? opts_.hold_seconds : 0,
                  .refresh_floor_seconds = opts_.refresh_floor_seconds,
                  .agent_path = opts_.bin_dir + "/" + opts_.agent_program};
    QNET_ASSIGN_OR_RETURN(auto proc, QubeProcess::Spawn(inst_, p));
    qubes_[q.spec.name] = std::move(proc);
  }
  spec_ = spec;
  spec_text_ = text;
  QNET_TRY(SaveStateLocked());
  // Contract 1: no link exists before the qube's table is verified by us.
  for (const QubePlan& q : plan.qubes) {
    auto& proc = qubes_[q.spec.name];
    QNET_TRY(proc->WaitForAgent(kCallTimeout + seconds(opts_.hold_seconds)));
    QNET_TRY(VerifyQubeLockdown(proc->netns_fd(), q.spec.name));
  }
  for (const LinkPlan& l : plan.links) {
    VifLink link{.netvm_netns_fd = qubes_[l.netvm]->netns_fd(),
                 .client_netns_fd = qubes_[l.client]->netns_fd(), .vif = l.vif,
                 .client_ifname = "eth0"};
    if (Status s = CreateVifLink(link); !s)
      return Fail(s.error().Wrap(fmt::format("link {} -> {}", l.client, l.netvm)));
  }
  for (const QubePlan& q : plan.qubes) {
    if (q.spec.role == qube::Role::kNet && lab_)
      QNET_TRY(lab_->ConnectSysNet(qubes_[q.spec.name]->netns_fd()));
  }
  for (const LinkPlan& l : plan.links) {
    QNET_TRY(SetUpInNetns(qubes_[l.netvm]->netns_fd(), l.vif));
    QNET_TRY(SetUpInNetns(qubes_[l.client]->netns_fd(), "eth0"));
  }
  for (const QubePlan& q : plan.qubes) {
    if (q.spec.role == qube::Role::kNet && lab_)
      QNET_TRY(SetUpInNetns(qubes_[q.spec.name]->netns_fd(), lab::kSysNetUplinkIf));
  }
  for (const QubePlan& q : plan.qubes) {
    QNET_ASSIGN_OR_RETURN(auto r, qubes_[q.spec.name]->Call("qnet.Configure",
                                                           agent::ToJson(q.agent), kCallTimeout));
    if (r.exit_code != 0)
      return Fail(Errc::kFailedPrecondition,
                  fmt::format("qube {}: configure: {}", q.spec.name, FailureText(r)));
  }
  plan_ = std::move(plan);
  return OkStatus();
}

Status Daemon::RemoveQubeLocked(const std::string& name) {
  auto it = qubes_.find(name);
  pid_t pid = it != qubes_.end() ? it->second->init_pid() : -1;
  if (it != qubes_.end()) qubes_.erase(it);
  int killed = 0;
  Status s = RemoveNamespace(inst_, inst_.netns_name(name), &killed);
  if (pid > 0) ::waitpid(pid, nullptr, WNOHANG);
  return s;
}

Result<std::string> Daemon::Down(const std::string& qube, bool recursive) {
  std::lock_guard lock(mu_);
  if (qube.empty()) {
    qubes_.clear();
    lab_.reset();
    spec_.reset();
    plan_.reset();
    spec_text_.clear();
    CleanupReport r = CleanupInstance(inst_, /*keep_daemon_files=*/true);
    if (!r.errors.empty())
      return Fail(Errc::kIo, fmt::format("down: {}", fmt::join(r.errors, "; ")));
    return fmt::format("down: {} namespaces removed\n", r.namespaces_removed);
  }
  if (!spec_ || !qubes_.contains(qube))
    return Fail(Errc::kNotFound, fmt::format("qube '{}' is not running", qube));
  // Clients first: a netvm is removed only after everything behind it.
  std::vector<std::string> order;
  std::vector<std::string> todo = {qube};
  while (!todo.empty()) {
    std::string q = todo.back();
    todo.pop_back();
    order.push_back(q);
    for (const std::string& c : config::ClientsOf(*spec_, q)) {
      if (!qubes_.contains(c)) continue;
      if (!recursive)
        return Fail(Errc::kFailedPrecondition,
                    fmt::format("qube '{}' is the netvm of '{}'; use --recursive", qube, c));
      todo.push_back(c);
    }
  }
  std::string out;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    QNET_TRY(RemoveQubeLocked(*it));
    out += fmt::format("{} down\n", *it);
  }
  QNET_TRY(SaveStateLocked());
  return out;
}

std::shared_ptr<QubeProcess> Daemon::FindQube(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = qubes_.find(name);
  return it == qubes_.end() ? nullptr : it->second;
}

Result<std::vector<QubeRow>> Daemon::List() {
  std::lock_guard lock(mu_);
  std::vector<QubeRow> rows;
  if (!plan_) return rows;
  for (const QubePlan& q : plan_->qubes) {
    QubeRow r;
    r.name = q.spec.name;
    r.id = q.spec.id;
    r.role = std::string(qube::RoleName(q.spec.role));
    r.label = std::string(qube::LabelName(q.spec.label));
    r.netvm = q.spec.netvm.value_or("-");
    r.ip = q.addr4.ToString();
    auto it = qubes_.find(q.spec.name);
    if (it == qubes_.end()) {
      r.state = "halted";
    } else {
      r.init_pid = it->second->init_pid();
      r.state = it->second->alive() ? "running" : "dead";
      if (auto c = ReadDropCounters(it->second->netns_fd()); c) {
        r.drops_input = c->input;
        r.drops_forward = c->forward;
        r.drops_output = c->output;
        r.counters_ok = true;
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::string> Daemon::Graph() {
  std::lock_guard lock(mu_);
  if (!plan_) return Fail(Errc::kNotFound, "no chain is up");
  std::string out = fmt::format("digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontcolor=white];\n", plan_->chain_name);
  for (const QubePlan& q : plan_->qubes) {
    out += fmt::format("  \"{}\" [fillcolor=\"{}\", label=\"{}\\n{}\\n{}\"];\n", q.spec.name,
                       qube::LabelHexColor(q.spec.label), q.spec.name, qube::RoleName(q.spec.role),
                       q.addr4);
    if (q.spec.netvm) out += fmt::format("  \"{}\" -> \"{}\";\n", q.spec.name, *q.spec.netvm);
    if (q.spec.role == qube::Role::kNet && plan_->lab)
      out += fmt::format("  \"{}\" -> \"lab\";\n", q.spec.name);
  }
  if (plan_->lab)
    out += "  \"lab\" [shape=ellipse, fillcolor=\"#888a85\", label=\"lab internet\\n198.51.100.1\"];\n";
  out += "}\n";
  return out;
}

Result<std::string> Daemon::Save() {
  std::lock_guard lock(mu_);
  if (!spec_) return Fail(Errc::kNotFound, "no chain is up");
  return config::FormatChainFile(*spec_);
}

Result<int> Daemon::Exec(const std::string& qube, const std::vector<std::string>& argv, bool root,
                         std::vector<int> stdio) {
  auto proc = FindQube(qube);
  if (!proc) return Fail(Errc::kNotFound, fmt::format("qube '{}' is not running", qube));
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return Fail(ErrnoError("socketpair", errno));
  UniqueFd ours(sv[0]), theirs(sv[1]);
  nlohmann::json j = {{"argv", argv}, {"root", root}};
  stdio.push_back(theirs.get());
  QNET_ASSIGN_OR_RETURN(auto r, proc->Call("qnet.Exec", j.dump(), kCallTimeout, stdio));
  theirs.reset();
  if (r.exit_code != 0) return Fail(Errc::kFailedPrecondition, FailureText(r));
  qrexec::Channel result(std::move(ours));
  auto msg = result.Receive();
  if (!msg || msg->type != qrexec::MsgType::kDataExitCode)
    return Fail(Errc::kUnavailable, fmt::format("qube {}: the command's exit code was lost "
                                                "(agent restarted?)", qube));
  QNET_ASSIGN_OR_RETURN(int32_t code, qrexec::DecodeExitCode(msg->payload));
  return static_cast<int>(code);
}

#ifdef QNET_TEST_HOOKS
Result<std::string> Daemon::TestReload(const std::string& qube, int count, bool unsafe) {
  auto proc = FindQube(qube);
  if (!proc) return Fail(Errc::kNotFound, fmt::format("qube '{}' is not running", qube));
  QNET_ASSIGN_OR_RETURN(auto r, proc->Call("qnet.TestReload", std::to_string(count), seconds(300),
                                           {}, unsafe ? "unsafe" : "safe"));
  if (r.exit_code != 0) return Fail(Errc::kFailedPrecondition, FailureText(r));
  return r.stdout_data;
}
#endif

// ---- `qnet firewall QUBE ...`: the qube's rule list lives in qnetd's state
// (the plan's client entry at its netvm, and the chain spec that `save`
// writes); every change is applied by the netvm's agent before the call
// returns.
namespace {


// The error names the rule as given and the field (contract 9).
Result<firewall::Rule> ParseGiven(const std::string& text, int64_t now) {
  auto r = firewall::ParseRule(text, now);
  if (!r) return Fail(r.error().Wrap(fmt::format("rule '{}'", text)));
  return r;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// One row per operation: what it does to the list (before anything is sent).
using EditFn = Status (*)(firewall::RuleList&, const FirewallRequest&, int64_t);
struct EditRow {
  const char* op;
  EditFn edit;  // nullptr: no change (list)
  bool apply;   // send the list to the agent
};

Status EditAdd(firewall::RuleList& l, const FirewallRequest& r, int64_t now) {
  if (r.rules.empty()) return Fail(Errc::kInvalidArgument, "add: give at least one RULE");
  std::vector<firewall::Rule> parsed;
  for (const std::string& t : r.rules) {
    QNET_ASSIGN_OR_RETURN(firewall::Rule rule, ParseGiven(t, now));
    parsed.push_back(std::move(rule));
  }
  firewall::RuleList next = l;
  std::optional<size_t> before = r.before;
  for (firewall::Rule& rule : parsed) {
    QNET_TRY(next.Add(std::move(rule), before));
    if (before) ++*before;
  }
  l = std::move(next);
  return OkStatus();
}

Status EditDel(firewall::RuleList& l, const FirewallRequest& r, int64_t now) {
  if (r.rules.size() != 1) return Fail(Errc::kInvalidArgument, "del: give one rule number or RULE");
  const std::string& arg = r.rules[0];
  if (AllDigits(arg)) {
    if (arg.size() > 9) return Fail(Errc::kNotFound, fmt::format("del: no rule {}", arg));
    return l.Remove(static_cast<size_t>(std::stoul(arg)));
  }
  QNET_ASSIGN_OR_RETURN(firewall::Rule rule, ParseGiven(arg, now));
  return l.Remove(rule);
}

Status EditReset(firewall::RuleList& l, const FirewallRequest&, int64_t) {
  l.Reset();
  return OkStatus();
}

constexpr EditRow kEdits[] = {
    {"list", nullptr, false},
    {"add", EditAdd, true},
    {"del", EditDel, true},
    {"reset", EditReset, true},
    {"apply", nullptr, true},
};

// The qvm-firewall table plus a HITS column (packets each rule matched,
// as the netvm's kernel counted them; "-" when they could not be read).
std::string ListJson(const firewall::RuleList& list, int64_t now,
                     const std::optional<std::map<int, uint64_t>>& hits, const nlohmann::json& state) {
  nlohmann::json rows = nlohmann::json::array();
  const firewall::ListRow header = firewall::ListHeader();
  int n = 0;
  for (const firewall::ListRow& row : firewall::ListRows(list, now)) {
    nlohmann::json o;
    for (size_t i = 0; i < row.size(); ++i) o[header[i]] = row[i];
    o["HITS"] = hits ? nlohmann::json(hits->contains(n) ? hits->at(n) : 0) : nlohmann::json(nullptr);
    rows.push_back(o);
    ++n;
  }
  return nlohmann::json{{"rules", rows},
                        {"raw", list.Format()},
                        {"error", state.value("error", nlohmann::json())},
                        {"notes", state.value("notes", nlohmann::json::array())}}
             .dump() +
         "\n";
}

std::string ListTable(const firewall::RuleList& list, int64_t now,
                      const std::optional<std::map<int, uint64_t>>& hits,
                      const nlohmann::json& state) {
  std::vector<std::vector<std::string>> rows;
  const firewall::ListRow header = firewall::ListHeader();
  rows.emplace_back(header.begin(), header.end());
  rows.back().push_back("HITS");
  int n = 0;
  for (const firewall::ListRow& row : firewall::ListRows(list, now)) {
    rows.emplace_back(row.begin(), row.end());
    rows.back().push_back(hits ? std::to_string(hits->contains(n) ? hits->at(n) : 0) : "-");
    ++n;
  }
  std::string out = firewall::RenderTable(rows);
  if (state.contains("notes") && state["notes"].is_array())
    for (const auto& note : state["notes"])
      if (note.is_string()) out += "note: " + note.get<std::string>() + "\n";
  if (state.contains("error") && state["error"].is_string())
    out += "error: " + state["error"].get<std::string>() + " (the qube is in drop-all)\n";
  return out;
}

}  // namespace

Result<agent::Client*> Daemon::FirewallClientLocked(const std::string& qube, std::string* netvm) {
  if (!plan_ || !spec_) return Fail(Errc::kNotFound, "no chain is up");
  const QubePlan* q = plan_->Find(qube);
  if (!q) return Fail(Errc::kNotFound, fmt::format("qube '{}' is not in the chain", qube));
  if (!q->spec.netvm)
    return Fail(Errc::kFailedPrecondition,
                fmt::format("qube '{}' has no netvm: nothing enforces its rules", qube));
  *netvm = *q->spec.netvm;
  for (QubePlan& nq : plan_->qubes)
    if (nq.spec.name == *netvm)
      for (agent::Client& c : nq.agent.clients)
        if (c.name == qube) return &c;
  return Fail(Errc::kInternal, fmt::format("qube '{}': not planned at its netvm", qube));
}

Status Daemon::PushFirewallLocked(agent::Client& client, const std::string& netvm,
                                  const firewall::RuleList& next) {
  auto it = qubes_.find(netvm);
  if (it == qubes_.end())
    return Fail(Errc::kUnavailable,
                fmt::format("netvm '{}' of '{}' is not running", netvm, client.name));
  QNET_ASSIGN_OR_RETURN(auto r, it->second->Call("qnet.Firewall",
                                                 agent::ToJson(agent::FirewallUpdate{client.name, next}),
                                                 seconds(30)));
  // Exit code 2: the kernel refused the list; the agent keeps it with the
  // qube in drop-all (so does qnetd: `apply` retries it).
  if (r.exit_code == 0 || r.exit_code == 2) {
    client.rules = next;
    QNET_TRY(StoreFirewallLocked(client.name, next));
  }
  if (r.exit_code != 0)
    return Fail(Errc::kFailedPrecondition,
                fmt::format("firewall {} (at {}): {}", client.name, netvm, FailureText(r)));
  return OkStatus();
}

Result<std::string> Daemon::Firewall(const FirewallRequest& req) {
  const EditRow* row = nullptr;
  for (const EditRow& e : kEdits)
    if (req.op == e.op) row = &e;
  if (!row) return Fail(Errc::kInvalidArgument, fmt::format("firewall: unknown operation '{}'", req.op));
  std::lock_guard lock(mu_);
  std::string netvm;
  QNET_ASSIGN_OR_RETURN(agent::Client * client, FirewallClientLocked(req.qube, &netvm));
  const int64_t now = UnixNow();
  // Expired rules leave the list (the kernel stopped matching them already).
  firewall::RuleList next = client->rules;
  bool expired = next.RemoveExpired(now) > 0;
  if (row->edit) QNET_TRY(row->edit(next, req, now));
  if (row->apply || expired) QNET_TRY(PushFirewallLocked(*client, netvm, next));
  if (req.op != "list") return fmt::format("firewall {}: {} rules in force\n", req.qube,
                                           next.Effective().size());
  std::optional<std::map<int, uint64_t>> hits;
  nlohmann::json state = nlohmann::json::object();
  if (auto it = qubes_.find(netvm); it != qubes_.end()) {
    auto h = ReadRuleHits(it->second->netns_fd(), client->id);
    if (h) hits = std::move(*h);
    auto st = it->second->Call("qnet.FirewallState", req.qube, seconds(10));
    if (st && st->exit_code == 0) {
      state = nlohmann::json::parse(st->stdout_data, nullptr, false);
      if (!state.is_object()) state = nlohmann::json::object();
    }
  }
  return req.json ? ListJson(next, now, hits, state) : ListTable(next, now, hits, state);
}

void Daemon::ExpireDue() {
  std::unique_lock lock(mu_, std::try_to_lock);  // busy (an `up`, say): next tick
  if (!lock || !plan_ || !spec_) return;
  const int64_t now = UnixNow();
  for (QubePlan& nq : plan_->qubes) {
    for (agent::Client& c : nq.agent.clients) {
      firewall::RuleList next = c.rules;
      if (next.RemoveExpired(now) == 0) continue;
      // A netvm that failed to take the list is asked again in 30 s, not
      // every second (the kernel has stopped matching the rules anyway).
      auto retry = expire_retry_at_.find(c.name);
      if (retry != expire_retry_at_.end() && retry->second > now) continue;
      if (Status s = PushFirewallLocked(c, nq.spec.name, next); !s) {
        spdlog::warn("firewall {}: expired rules not yet removed, retry in 30 s: {}", c.name,
                     s.error().message());
        expire_retry_at_[c.name] = now + 30;
        continue;
      }
      expire_retry_at_.erase(c.name);
      spdlog::info("firewall {}: expired rules removed", c.name);
    }
  }
}

Status Daemon::StoreFirewallLocked(const std::string& qube, const firewall::RuleList& list) {
  for (config::QubeSpec& qs : spec_->qubes) {
    if (qs.name != qube) continue;
    std::erase_if(qs.extra, [](const config::Value::Member& m) { return m.key == "firewall"; });
    if (!list.empty())
      qs.extra.push_back({.key = "firewall", .value = firewall::RuleListToValue(list)});
  }
  spec_text_ = config::FormatChainFile(*spec_);
  return SaveStateLocked();
}

}  // namespace qnet::chain
