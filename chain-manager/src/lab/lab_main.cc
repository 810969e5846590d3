// qnet-lab: the servers that run inside the lab's namespaces. One
// subcommand per server kind; each binds everything, then says "ready".
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "qnet/base/fd.h"
#include "qnet/base/log.h"
#include "qnet/lab/bind.h"
#include "qnet/lab/dns_server.h"
#include "qnet/lab/echo_server.h"
#include "qnet/lab/http_server.h"
#include "qnet/lab/service.h"

namespace qnet::lab {
namespace {

struct LabOptions {
  std::vector<std::string> bind;
  uint16_t http_port = 80;
  uint16_t echo_port = 7;
  uint16_t dns_port = 53;
  std::string records;
  std::string log;
  int ready_fd = -1;
  std::string log_level = "info";
};

using Services = std::vector<std::unique_ptr<LabService>>;

struct Subcommand {
  const char* name;
  const char* help;
  void (*add_options)(CLI::App&, LabOptions&);
  Result<Services> (*start)(asio::io_context&, const LabOptions&);
};

void AddBindOption(CLI::App& app, LabOptions& o) {
  app.add_option("--bind", o.bind, "address to listen on (repeatable; default 0.0.0.0 and ::)");
}

void AddWebOptions(CLI::App& app, LabOptions& o) {
  AddBindOption(app, o);
  app.add_option("--http-port", o.http_port, "HTTP port")->capture_default_str();
  app.add_option("--echo-port", o.echo_port, "UDP and TCP echo port")->capture_default_str();
}

void AddDnsOptions(CLI::App& app, LabOptions& o) {
  app.add_option("--records", o.records, "records file: NAME TYPE VALUE [TTL] per line")
      ->required();
  app.add_option("--log", o.log, "query log, appended one line per query")->required();
  AddBindOption(app, o);
  app.add_option("--port", o.dns_port, "UDP and TCP port")->capture_default_str();
}

Result<Services> StartWeb(asio::io_context& io, const LabOptions& o) {
  QNET_ASSIGN_OR_RETURN(auto binds, ResolveBindSpecs(o.bind));
  Services services;
  QNET_ASSIGN_OR_RETURN(auto http, HttpServer::Start(io, binds, o.http_port));
  services.push_back(std::move(http));
  QNET_ASSIGN_OR_RETURN(auto echo, EchoServer::Start(io, binds, o.echo_port));
  services.push_back(std::move(echo));
  return services;
}

Result<Services> StartDns(asio::io_context& io, const LabOptions& o) {
  QNET_ASSIGN_OR_RETURN(auto binds, ResolveBindSpecs(o.bind));
  DnsServerOptions dns{o.records, o.log, std::move(binds), o.dns_port};
  Services services;
  QNET_ASSIGN_OR_RETURN(auto server, DnsServer::Start(io, std::move(dns)));
  services.push_back(std::move(server));
  return services;
}

constexpr std::array<Subcommand, 2> kSubcommands{{
    {"web", "HTTP server that answers with the client's address, plus UDP/TCP echo", AddWebOptions,
     StartWeb},
    {"dns", "authoritative DNS server for the lab's names, logging every query", AddDnsOptions,
     StartDns},
}};

Status SignalReady(int ready_fd) {
  if (ready_fd < 0) {
    std::fputs("ready\n", stdout);
    if (std::fflush(stdout) != 0) return Fail(ErrnoError("stdout", errno));
    return OkStatus();
  }
  Status s = WriteAll(ready_fd, "ready\n");
  // Closing tells a reader waiting for EOF that start-up is over.
  if (ready_fd > 2) ::close(ready_fd);
  if (!s) return Fail(s.error().Wrap(fmt::format("--ready-fd {}", ready_fd)));
  return OkStatus();
}

void WaitForSignal(asio::signal_set& signals, asio::io_context& io, Services& services) {
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      for (auto& s : services) s->OnHangup();
      WaitForSignal(signals, io, services);
      return;
    }
    spdlog::info("signal {}: stopping", signo);
    io.stop();
  });
}

int Run(const Subcommand& cmd, const LabOptions& options) {
  asio::io_context io(1);
  // Installed before the sockets are bound so that a signal sent right
  // after "ready" is always handled, never the default action.
  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  auto services = cmd.start(io, options);
  if (!services) {
    spdlog::error("{}: {}", cmd.name, services.error().message());
    return 1;
  }
  WaitForSignal(signals, io, *services);
  if (Status s = SignalReady(options.ready_fd); !s) {
    spdlog::error("{}", s.error().message());
    return 1;
  }
  io.run();
  return 0;
}

int Main(int argc, char** argv) {
  // A client that hangs up must cost one write error, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  LabOptions options;
  CLI::App app{"qnet-lab: servers for the qnet lab's simulated internet"};
  app.require_subcommand(1);
  for (const auto& cmd : kSubcommands) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.help);
    cmd.add_options(*sub, options);
    sub->add_option("--ready-fd", options.ready_fd,
                    "write \"ready\" to this fd instead of stdout once bound");
    sub->add_option("--log-level", options.log_level, "debug, info, warn or error")
        ->capture_default_str();
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  InitLogging("qnet-lab", options.log_level);
  for (const auto& cmd : kSubcommands) {
    if (app.got_subcommand(cmd.name)) return Run(cmd, options);
  }
  return 2;
}

}  // namespace
}  // namespace qnet::lab

int main(int argc, char** argv) {
  // Every Asio call uses error codes; this only catches what cannot be
  // handled anywhere else (allocation failure), so nothing escapes main.
  try {
    return qnet::lab::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qnet-lab: fatal: %s\n", e.what());
    return 1;
  }
}
