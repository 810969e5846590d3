// Firewall apply benchmark: 1,000 synthetic clients x 10 Qubes
// rules installed in a netvm's table as ONE transaction through the agent's
// real path (firewall::Compile + FirewallInstallBatch + nft::Commit), against
// the same policy loaded with `nft -f` as a linear chain of one nft rule per
// Qubes rule, into the same kind of fresh table, alternately in the same run;
// then one client's change with the 1,000 loaded (CompileClient +
// FirewallClientBatch + Commit). Not a test: prints every run, medians,
// ratios and the targets.
//
//   sudo <build>/bin/firewall_apply_bench [--reps 5] [--clients 1000] [--changes 21]
//
// Safety: the program moves itself into a new, unnamed network namespace
// (unshare) before it touches nftables, and `nft` runs as its child there.
// The namespace holds no interface but a DOWN lo and disappears with the
// process however it ends (exit, error, signal, SIGKILL); nothing is pinned,
// nothing in the root namespace is read or changed. SIGINT/SIGTERM also
// kill a running `nft` child first.
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "lockdown.h"
#include "netvm_capability.h"
#include "qnet/base/fd.h"
#include "qnet/base/process.h"
#include "qnet/base/result.h"
#include "qnet/firewall/compiler.h"
#include "qnet/firewall/install_batch.h"
#include "qnet/firewall/rule_parser.h"
#include "qnet/netlink/socket.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/committer.h"
#include "qnet/nft/readback.h"
#include "qnet/nft/transaction.h"
#include "qnet/qube/address.h"
#include "qnet/qube/agent_config.h"
#include "synthetic_clients.h"

namespace qnet::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kMaxReps = 50;
constexpr uint32_t kMaxClients = 5000;
constexpr uint32_t kMaxChanges = 1000;
// Synthetic ids start above the ids a small chain uses; any id works here,
// the namespace holds nothing else.
constexpr uint32_t kFirstId = 100;
constexpr auto kNftTimeout = std::chrono::seconds(60);

constexpr double kApplyTargetMs = 100;
constexpr double kRatioTarget = 2;
constexpr double kChangeTargetMs = 5;

std::atomic<pid_t> g_child{-1};

void OnSignal(int sig) {
  pid_t c = g_child.load();
  if (c > 0) ::kill(c, SIGKILL);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string Join(const std::vector<double>& v) {
  std::string out;
  for (double x : v) out += fmt::format("{}{:.1f}", out.empty() ? "" : " ", x);
  return out;
}

// The netvm's agent config: a firewall qube (capabilities netvm +
// firewall) with the clients attached, as qnetd would send it.
Result<qube::AgentConfig> NetvmConfig(const std::vector<firewall::Client>& clients) {
  qube::AgentConfig c;
  c.qube = "sys-firewall";
  c.role = qube::Role::kFirewall;
  QNET_ASSIGN_OR_RETURN(c.addr4, qube::Ipv4ForId(2));
  QNET_ASSIGN_OR_RETURN(IpAddr gw, qube::Ipv4ForId(1));
  c.uplink = qube::Uplink{.ifname = "eth0", .addr4 = IpPrefix::Host(c.addr4), .gateway4 = gw};
  c.dns_upstream = {qube::VirtualDnsServers()[0], qube::VirtualDnsServers()[1]};
  for (const firewall::Client& fc : clients)
    c.clients.push_back(
        qube::Client{.name = fc.name, .id = fc.id, .vif = fc.vif, .addr4 = fc.ipv4});
  return c;
}

// Deletes `inet qnet` if present, then builds it as a netvm's agent does at
// start: lockdown, then the capability chains with the role's rules (the
// clients' anti-spoofing set filled), the firewall chains still absent.
Status FreshTable(netlink::Socket& nf, const qube::AgentConfig& config) {
  QNET_ASSIGN_OR_RETURN(bool exists, nft::TableExists(nf, nft::Family::kInet, nft::kQnetTableName));
  if (exists) {
    nft::Batch del;
    del.DelTable(nft::QnetTable());
    QNET_TRY(nft::Commit(nf, del));
  }
  bool created = false;
  nft::SocketCommitter commit(nf);
  QNET_TRY(agent::Lockdown(nf, commit, &created));
  nft::Batch b = nft::InstallCapabilitiesBatch({"netvm", "firewall"});
  b.Append(qube::ReplaceBatch(agent::NetvmRules(config)));
  QNET_TRY(b.status());
  return commit.Commit(b);
}

// The linear baseline: one `add rule` per Qubes rule into firewall-forward
// (the chain the base forward chain jumps to), as a script would write it.
std::string LinearScript(const std::vector<firewall::Client>& clients) {
  std::string s;
  s.reserve(clients.size() * kRulesPerClient * 110);
  for (uint32_t i = 0; i < clients.size(); ++i) {
    const std::string saddr = clients[i].ipv4.ToString();
    for (const std::string& stmt : SyntheticNftStatements(i))
      s += fmt::format("add rule inet qnet firewall-forward ip saddr {} {}\n", saddr, stmt);
  }
  return s;
}

// A memfd holding `text`, so `nft -f /dev/stdin` reads it without a file
// in the file system.
Result<UniqueFd> MemFile(const std::string& text) {
  UniqueFd fd(::memfd_create("qnet-bench-nft", MFD_CLOEXEC));
  if (!fd) return Fail(ErrnoError("memfd_create", errno));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
    if (n < 0) return Fail(ErrnoError("write memfd", errno));
    off += static_cast<size_t>(n);
  }
  return fd;
}

// Runs `nft -f /dev/stdin` with `script` on its stdin; returns its wall time
// from fork to exit. Fails on a non-zero exit or after kNftTimeout.
Result<double> RunNft(const std::string& nft, int script) {
  if (::lseek(script, 0, SEEK_SET) != 0) return Fail(ErrnoError("lseek memfd", errno));
  const auto t0 = Clock::now();
  QNET_ASSIGN_OR_RETURN(ChildProcess child,
                        Spawn({.argv = {nft, "-f", "/dev/stdin"}, .fds = {script, 1, 2}}));
  g_child = child.pid();
  Result<int> rc = child.WaitFor(kNftTimeout);
  g_child = -1;
  const auto t1 = Clock::now();
  if (!rc) return Fail(rc.error().Wrap("nft -f"));
  if (*rc != 0) return Fail(Errc::kInternal, fmt::format("nft -f exited with {}", *rc));
  return Ms(t1 - t0);
}

// Rules in the table as `nft -j list table` shows them: a sanity check that
// both sides loaded what they claim.
Result<size_t> CountedRules(const std::string& nft) {
  QNET_ASSIGN_OR_RETURN(std::string out, RunCapture({nft, "-j", "list", "table", "inet", "qnet"}));
  size_t n = 0, pos = 0;
  while ((pos = out.find("{\"rule\":", pos)) != std::string::npos) {
    ++n;
    ++pos;
  }
  return n;
}

struct Options {
  uint32_t reps = 5;
  uint32_t clients = 1000;
  uint32_t changes = 21;
  std::string nft = "/usr/sbin/nft";
};

struct ApplyTimes {
  double compile = 0, batch = 0, commit = 0;
  double encode = 0;  // Batch::Encode() alone, timed apart (Commit encodes again)
  size_t ops = 0;     // messages in the transaction
  size_t bytes = 0;   // its encoded size
  double total() const { return compile + batch + commit; }
};

// qnet's path, timed in three parts.
// `installed` receives what the agent keeps per client once it committed.
Result<ApplyTimes> ApplyQnet(netlink::Socket& nf, const std::vector<firewall::Client>& clients,
                             std::map<uint32_t, firewall::ClientRules>* installed) {
  ApplyTimes t;
  const auto t0 = Clock::now();
  QNET_ASSIGN_OR_RETURN(firewall::CompiledFirewall compiled,
                        firewall::Compile(clients, {}, std::time(nullptr)));
  const auto t1 = Clock::now();
  nft::Batch batch = firewall::FirewallInstallBatch(std::move(compiled), {}, installed);
  QNET_TRY(batch.status());
  const auto t2 = Clock::now();
  QNET_TRY(nft::Commit(nf, batch));
  const auto t3 = Clock::now();
  const std::vector<uint8_t> bytes = batch.Encode();
  t.encode = Ms(Clock::now() - t3);
  t.ops = batch.size();
  t.bytes = bytes.size();
  t.compile = Ms(t1 - t0);
  t.batch = Ms(t2 - t1);
  t.commit = Ms(t3 - t2);
  return t;
}

// Client `index`'s list with its first rule's port changed and one rule
// added before the final one: the kind of edit `qvm-firewall add` makes.
Result<firewall::Client> Edited(const firewall::Client& c) {
  firewall::Client e = c;
  QNET_ASSIGN_OR_RETURN(firewall::Rule r0,
                        firewall::ParseRule("accept dst4=203.0.113.99 proto=tcp dstports=8443", 0));
  QNET_TRY(e.rules.Remove(0));
  QNET_TRY(e.rules.Add(r0, 0));
  QNET_ASSIGN_OR_RETURN(firewall::Rule extra,
                        firewall::ParseRule("drop dst4=198.18.200.0/24 proto=udp", 0));
  QNET_TRY(e.rules.Add(extra, e.rules.size() - 1));
  return e;
}

int Run(const Options& o) {
  auto fail = [](std::string_view what, const Error& e) {
    std::fprintf(stderr, "firewall_apply_bench: %.*s: %s\n", static_cast<int>(what.size()),
                 what.data(), e.message().c_str());
    return 1;
  };
  // Everything below happens in a namespace of our own that dies with us.
  if (::unshare(CLONE_NEWNET) != 0)
    return fail("setup", ErrnoError("unshare(CLONE_NEWNET)", errno));
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  auto clients = SyntheticClients(kFirstId, o.clients);
  if (!clients) return fail("synthetic clients", clients.error());
  auto config = NetvmConfig(*clients);
  if (!config) return fail("config", config.error());
  auto nf = netlink::Socket::Open(NETLINK_NETFILTER);
  if (!nf) return fail("netlink", nf.error());
  auto script = MemFile(LinearScript(*clients));
  if (!script) return fail("script", script.error());
  auto empty = MemFile("");
  if (!empty) return fail("script", empty.error());

  double load[3] = {0, 0, 0};
  std::ifstream("/proc/loadavg") >> load[0] >> load[1] >> load[2];
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%F %T", std::gmtime(&now));
  std::printf("qnet firewall_apply_bench: %s UTC, %u cores, load %.2f %.2f %.2f\n", date,
              std::thread::hardware_concurrency(), load[0], load[1], load[2]);
  std::printf(
      "%u synthetic clients x %zu Qubes rules = %zu rules; %u runs, %u one-client changes\n",
      o.clients, kRulesPerClient, o.clients * kRulesPerClient, o.reps, o.changes);
  std::printf(
      "qnet: Compile + FirewallInstallBatch + Commit, one transaction, into a fresh netvm table\n");
  std::printf(
      "nft:  `nft -f` of one `add rule ... ip saddr CLIENT ...` per Qubes rule (linear chain),\n");
  std::printf("      into the same fresh table; wall time of the nft process\n\n");

  std::vector<double> q_total, q_compile, q_batch, q_commit, q_encode, n_total, n_empty;
  std::map<uint32_t, firewall::ClientRules> installed;
  size_t q_rules = 0, n_rules = 0, q_ops = 0, q_bytes = 0;
  for (uint32_t r = 1; r <= o.reps; ++r) {
    // Linear nft first, then qnet: the table qnet leaves is the one the
    // one-client changes start from.
    if (Status s = FreshTable(*nf, *config); !s) return fail("fresh table", s.error());
    auto e = RunNft(o.nft, empty->get());
    if (!e) return fail("nft -f (empty)", e.error());
    auto n = RunNft(o.nft, script->get());
    if (!n) return fail("nft -f (linear)", n.error());
    if (r == 1) {
      auto c = CountedRules(o.nft);
      if (!c) return fail("nft list", c.error());
      n_rules = *c;
    }
    if (Status s = FreshTable(*nf, *config); !s) return fail("fresh table", s.error());
    auto q = ApplyQnet(*nf, *clients, &installed);
    if (!q) return fail("qnet apply", q.error());
    if (r == 1) {
      auto c = CountedRules(o.nft);
      if (!c) return fail("nft list", c.error());
      q_rules = *c;
    }
    q_total.push_back(q->total());
    q_compile.push_back(q->compile);
    q_batch.push_back(q->batch);
    q_commit.push_back(q->commit);
    q_encode.push_back(q->encode);
    q_ops = q->ops;
    q_bytes = q->bytes;
    n_total.push_back(*n);
    n_empty.push_back(*e);
    std::printf(
        "run %u: qnet %.1f ms (compile %.1f, batch %.1f, commit %.1f) | nft -f linear %.1f ms "
        "(empty nft -f %.1f ms)\n",
        r, q->total(), q->compile, q->batch, q->commit, *n, *e);
    std::fflush(stdout);
  }

  // One client's change with all clients loaded (the table qnet left).
  std::vector<double> c_total;
  const uint32_t pick = o.clients / 2;
  firewall::ClientRules current = installed[(*clients)[pick].id];
  auto edited = Edited((*clients)[pick]);
  if (!edited) return fail("edit", edited.error());
  for (uint32_t i = 0; i < o.changes; ++i) {
    const firewall::Client& next = i % 2 == 0 ? *edited : (*clients)[pick];
    const auto t0 = Clock::now();
    auto after = firewall::CompileClient(next, {}, std::time(nullptr));
    if (!after) return fail("compile client", after.error());
    firewall::ClientRules kept = firewall::InstalledObjects(*after);
    nft::Batch b = firewall::FirewallClientBatch(current, std::move(*after));
    if (Status s = nft::Commit(*nf, b); !s) return fail("client change", s.error());
    c_total.push_back(Ms(Clock::now() - t0));
    current = std::move(kept);
  }

  const double qm = Median(q_total), nm = Median(n_total), cm = Median(c_total);
  const double ratio = qm > 0 ? nm / qm : 0;
  auto met = [](bool ok) { return ok ? "met" : "NOT met"; };
  std::printf(
      "\nrules in the table after run 1 (`nft -j list`, base and role rules included): "
      "qnet %zu, linear %zu; qnet's transaction: %zu messages, %.2f MB\n",
      q_rules, n_rules, q_ops, static_cast<double>(q_bytes) / 1e6);
  std::printf("one-client changes (client %u, alternating two lists): %s ms\n\n", pick,
              Join(c_total).c_str());
  std::printf("medians in ms                                   qnet   nft -f  ratio  target\n");
  std::printf(
      "apply %u clients x %zu rules (one transaction) %7.1f %8.1f %6.2f  < %.0f ms: %s; "
      "ratio >= %.0f: %s\n",
      o.clients, kRulesPerClient, qm, nm, ratio, kApplyTargetMs, met(qm < kApplyTargetMs),
      kRatioTarget, met(ratio >= kRatioTarget));
  std::printf("  of which compile                              %7.1f\n", Median(q_compile));
  std::printf("  of which FirewallInstallBatch                 %7.1f\n", Median(q_batch));
  std::printf("  of which Commit (encode + kernel)             %7.1f\n", Median(q_commit));
  std::printf("    Batch::Encode() alone (timed apart)         %7.1f\n", Median(q_encode));
  std::printf("  nft -f of an empty file (process start)                %8.1f\n", Median(n_empty));
  std::printf(
      "one client's change, %u loaded                  %7.2f        -      -  < %.0f ms: %s\n",
      o.clients, cm, kChangeTargetMs, met(cm < kChangeTargetMs));
  std::printf("ratio = nft -f / qnet: > 1 means qnet is faster\n");
  std::printf("runs, apply ms: qnet %s | nft -f %s\n", Join(q_total).c_str(),
              Join(n_total).c_str());
  return 0;
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"firewall_apply_bench: qnet's one-transaction firewall install vs nft -f"};
  app.add_option("--reps", o.reps, "runs of each side (1-50)")->capture_default_str();
  app.add_option("--clients", o.clients, "synthetic clients (1-5000)")->capture_default_str();
  app.add_option("--changes", o.changes, "one-client changes timed (1-1000)")
      ->capture_default_str();
  app.add_option("--nft", o.nft, "the nft binary")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (o.reps < 1 || o.reps > kMaxReps || o.clients < 1 || o.clients > kMaxClients ||
      o.changes < 1 || o.changes > kMaxChanges) {
    std::fprintf(stderr, "firewall_apply_bench: --reps, --clients or --changes out of range\n");
    return 2;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "firewall_apply_bench: needs root (a network namespace, nftables)\n");
    return 2;
  }
  return Run(o);
}

}  // namespace
}  // namespace qnet::bench

int main(int argc, char** argv) { return qnet::bench::Main(argc, argv); }
