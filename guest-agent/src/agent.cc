#include "agent.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "exec.h"
#include "lockdown.h"
#include "net_setup.h"
#include "qnet/base/fd.h"
#include "qnet/base/log.h"
#include "qnet/netlink/link.h"
#include "qnet/nft/base_table.h"

namespace qnet::agent {
namespace {

// The last configuration, kept in the qube's private /run so that a
// restarted agent still knows it (the rules themselves stay in the kernel).
constexpr const char* kSavedConfig = "/run/qnet-qube/config.json";

qrexec::ServiceReply Reply(int code, std::string out, std::string err = {}) {
  return {code, std::move(out), std::move(err)};
}
qrexec::ServiceReply ErrorReply(const Error& e) {
  return Reply(static_cast<int>(qube::AgentReply::kRefused), {}, e.message() + "\n");
}

}  // namespace

Status Agent::Start() {
#ifdef QNET_TEST_HOOKS
  if (opts_.hold_lockdown_seconds > 0) {
    spdlog::warn("test hook: holding lockdown for {} s", opts_.hold_lockdown_seconds);
    std::this_thread::sleep_for(std::chrono::seconds(opts_.hold_lockdown_seconds));
  }
#endif
  // Contract 1: the drop table exists before anything else happens.
  QNET_TRY(Lockdown(deps_.nf, deps_.nft, &lockdown_created_));
  if (!opts_.ipv6) QNET_TRY(DisableIpv6Everywhere());
  QNET_ASSIGN_OR_RETURN(netlink::Socket rtnl, netlink::Socket::Open(NETLINK_ROUTE));
  rtnl_.emplace(std::move(rtnl));
  QNET_TRY(netlink::SetLinkUp(*rtnl_, "lo", true));
  LoadSavedConfig();
  return OkStatus();
}

CapabilityHost Agent::MakeHost(qube::Role role) {
  CapabilityDeps deps{
      .qube = opts_.qube, .nft = deps_.nft, .resolve = deps_.resolve, .clock = deps_.clock};
  deps.id_base = opts_.id_base;
  if (opts_.refresh_floor_seconds > 0)
    deps.refresh_floor = std::chrono::seconds(opts_.refresh_floor_seconds);
  deps.resolve_host = [resolve = deps_.resolve](const std::string& host) {
    std::vector<IpAddr> out;
    firewall::Resolution r = resolve(host, /*ipv6=*/true);
    for (const firewall::ResolvedAddress& a : r.addresses) out.push_back(a.addr);
    return out;
  };
  deps.kernel_wireguard = deps_.kernel_wireguard;
  return CapabilityHost(deps_.nft, CapabilitiesFor(role, deps));
}

void Agent::LoadSavedConfig() {
  auto text = ReadFile(kSavedConfig);
  if (!text) return;
  auto c = qube::AgentConfigFromJson(*text);
  if (!c) return;
  config_ = std::move(*c);
  host_.emplace(MakeHost(config_->role));
  services_stale_ = true;
  // What the previous incarnation installed, read from the kernel by name,
  // so stale objects go with the next change.
  auto table = nft::ReadTable(deps_.nf, nft::Family::kInet, nft::kQnetTableName);
  if (table) host_->Adopt(*config_, *table);
}

void Agent::PublishDaemons() {
  if (!host_) return;
  if (Status s = daemons_.Publish(host_->Daemons()); !s)
    spdlog::error("qube {}: services: {}", opts_.qube, s.error().message());
}

void Agent::SaveConfig() {
  if (!config_) return;
  if (host_) host_->UpdateSections(*config_);
  (void)WriteFileAtomic(kSavedConfig, qube::ToJson(*config_), 0600);
}

qrexec::ServiceReply Agent::Configure(qrexec::ServiceRequest& req) {
  auto c = qube::AgentConfigFromJson(req.input);
  if (!c) return ErrorReply(c.error());
  if (c->qube != opts_.qube)
    return ErrorReply(
        Error(Errc::kInvalidArgument,
              fmt::format("config is for qube '{}', this is '{}'", c->qube, opts_.qube)));
  if (config_ && c->role != config_->role)
    return ErrorReply(Error(Errc::kInvalidArgument,
                            fmt::format("config is for role {}, this qube is {}",
                                        qube::RoleName(c->role), qube::RoleName(config_->role))));
  if (!host_) {
    host_.emplace(MakeHost(c->role));
    services_stale_ = true;
  }
  // Rules first: a config whose rules fail to apply leaves the lockdown drop
  // (or, for a firewall failure, its clients in drop-all).
  if (Status s = host_->Install(*c); !s) return ErrorReply(s.error().Wrap("rules"));
  if (Status s = ApplyNetworkConfig(*rtnl_, *c, host_->forwards()); !s)
    return ErrorReply(s.error().Wrap("network"));
  config_ = std::move(*c);
  SaveConfig();
  PublishDaemons();
  // Hostnames resolve in the loop once the links are up (until then their
  // accept rules match nothing).
  return Reply(0, "configured\n");
}

qrexec::ServiceReply Agent::StatusCall(qrexec::ServiceRequest&) {
  nlohmann::json j = {{"qube", opts_.qube},
                      {"lockdown", true},
                      {"configured", config_.has_value()},
                      {"agent_pid", ::getpid()}};
  return Reply(0, j.dump());
}

qrexec::ServiceReply Agent::Exec(qrexec::ServiceRequest& req) {
  auto j = nlohmann::json::parse(req.input, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("argv") || !j["argv"].is_array())
    return Reply(2, {}, "exec: input must be {\"argv\": [...], \"root\": bool}\n");
  if (req.fds.size() != 4)
    return Reply(2, {}, "exec: expected 4 fds (stdin stdout stderr result)\n");
  ExecRequest er;
  for (const auto& a : j["argv"]) {
    if (!a.is_string()) return Reply(2, {}, "exec: argv must be strings\n");
    er.argv.push_back(a.get<std::string>());
  }
  er.root = j.value("root", false);
  er.uid = opts_.user_uid;
  er.gid = opts_.user_gid;
  Status s = StartExec(er, std::move(req.fds[0]), std::move(req.fds[1]), std::move(req.fds[2]),
                       std::move(req.fds[3]));
  if (!s) return ErrorReply(s.error());
  return Reply(0, "started\n");
}

#ifdef QNET_TEST_HOOKS
qrexec::ServiceReply Agent::TestReload(qrexec::ServiceRequest& req) {
  if (!config_ || !host_) return Reply(1, {}, "not configured\n");
  bool unsafe = req.arg == "unsafe";
  int count = std::atoi(req.input.c_str());
  if (count <= 0 || count > 100000) return Reply(2, {}, "count must be 1..100000\n");
  for (int i = 0; i < count; ++i)
    if (Status s = host_->Reload(*config_, unsafe); !s) return ErrorReply(s.error());
  return Reply(0, fmt::format("reloaded {}\n", count));
}
#endif

qrexec::ServiceTable Agent::BuildServices() {
  using Req = qrexec::ServiceRequest;
  std::vector<qrexec::ServiceEntry> own = {
      {"qnet.Configure", [this](Req& r) { return Configure(r); }},
      {"qnet.Status", [this](Req& r) { return StatusCall(r); }},
      {"qnet.Exec", [this](Req& r) { return Exec(r); }},
#ifdef QNET_TEST_HOOKS
      {"qnet.TestReload", [this](Req& r) { return TestReload(r); }},
#endif
  };
  std::vector<qrexec::ServiceEntry> rows = own;
  if (host_) {
    // A capability's call may change its section: the saved config follows.
    for (qrexec::ServiceEntry& e : host_->Services())
      rows.push_back({e.name, [this, handler = std::move(e.handler)](Req& r) {
                        qrexec::ServiceReply reply = handler(r);
                        SaveConfig();
                        return reply;
                      }});
  }
  auto table = qrexec::ServiceTable::Create(std::move(rows));
  if (table) return std::move(*table);
  // Two capabilities claim one service name: a bug in the capability table
  // (its unit test checks every role); serve qnet's own services only.
  spdlog::critical("qube {}: capability services: {}", opts_.qube, table.error().message());
  return std::move(*qrexec::ServiceTable::Create(std::move(own)));
}

int Agent::Run() {
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGCHLD, SIG_DFL);
  if (Status s = Start(); !s) {
    spdlog::error("qube {}: agent start: {}", opts_.qube, s.error().message());
    return 1;
  }
  qrexec::ServiceTable services = BuildServices();
  services_stale_ = false;
  std::optional<qrexec::Channel> control;
  if (opts_.control_fd >= 0) control.emplace(UniqueFd(opts_.control_fd));
  for (;;) {
    // Waiters from exec are our children: reap them without blocking.
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    pollfd fds[2] = {{control ? control->fd() : -1, POLLIN, 0}, {opts_.listen_fd, POLLIN, 0}};
    int n = ::poll(fds, 2, 1000);
    if (n < 0 && errno != EINTR) return 1;
    if (host_) {
      host_->DaemonStates(daemons_.States());
      host_->Tick();
      PublishDaemons();
    }
    if (n <= 0) continue;
    if (fds[1].revents & POLLIN) {
      // qnetd restarted and reconnects: the newest connection is the control channel.
      int c = ::accept4(opts_.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        control.emplace(UniqueFd(c));
        spdlog::info("qube {}: qnetd reconnected", opts_.qube);
      }
      continue;
    }
    if (control && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      Status s = qrexec::ServeOne(*control, services);
      if (!s) {
        if (s.error().code() == Errc::kUnavailable) {
          spdlog::info("qube {}: control channel closed; waiting for qnetd", opts_.qube);
          control.reset();
        } else {
          spdlog::warn("qube {}: bad call: {}", opts_.qube, s.error().message());
        }
      }
      if (services_stale_) {
        services = BuildServices();
        services_stale_ = false;
      }
    }
  }
}

}  // namespace qnet::agent
