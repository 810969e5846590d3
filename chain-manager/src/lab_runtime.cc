#include "lab_runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qnet/chain/lab.h"
#include "qnet/netlink/link.h"
#include "qnet/netlink/route.h"
#include "qnet/netlink/sysctl.h"
#include "qnet/runtime/namespaces.h"
#include "qube_runtime.h"

namespace qnet::chain {
namespace {

constexpr int kReadyFd = 3;

Status WaitReady(int fd, const std::string& host, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (n <= 0)
    return Fail(Errc::kTimeout, fmt::format("lab {}: not ready in {} ms", host, timeout.count()));
  char buf[64];
  ssize_t r = ::read(fd, buf, sizeof buf);
  if (r <= 0) return Fail(Errc::kUnavailable, fmt::format("lab {}: exited before ready", host));
  return OkStatus();
}

// A router solicits a neighbour from its link-local address when the
// packet's source is not its own, and sends nothing while that address is in
// DAD: about 2 s after a link came up, forwarded IPv6 stalled. The lab assigns
// every address itself, so no link in it runs DAD. Links made in `netns_fd`
// from now on inherit "default"; a link moved in does too.
Status NoDad(int netns_fd) {
  QNET_TRY(netlink::SetSysctlInNetns(netns_fd, "net/ipv6/conf/all/accept_dad", "0"));
  return netlink::SetSysctlInNetns(netns_fd, "net/ipv6/conf/default/accept_dad", "0");
}

Status ConfigureHost(int netns_fd, const IpAddr& addr4, const IpAddr& addr6, bool ipv6) {
  QNET_ASSIGN_OR_RETURN(netlink::Socket rtnl,
                        netlink::Socket::OpenInNetns(NETLINK_ROUTE, netns_fd));
  if (!ipv6) {
    QNET_TRY(netlink::SetSysctlInNetns(netns_fd, "net/ipv6/conf/all/disable_ipv6", "1"));
    QNET_TRY(netlink::SetSysctlInNetns(netns_fd, "net/ipv6/conf/default/disable_ipv6", "1"));
  } else {
    QNET_TRY(netlink::SetSysctlInNetns(netns_fd, "net/ipv6/conf/eth0/accept_dad", "0"));
  }
  QNET_TRY(netlink::SetLinkUp(rtnl, "lo", true));
  QNET_TRY(netlink::SetLinkUp(rtnl, "eth0", true));
  QNET_TRY(netlink::AddAddress(rtnl, "eth0", IpPrefix(addr4, 24)));
  QNET_TRY(netlink::AddRoute(
      rtnl, {.dst = IpPrefix(IpAddr::V4(0), 0), .gateway = lab::kServers4.addr(), .dev = "eth0"}));
  if (ipv6) {
    QNET_TRY(netlink::AddAddress(rtnl, "eth0", IpPrefix(addr6, 64), {.nodad = true}));
    QNET_TRY(netlink::AddRoute(
        rtnl,
        {.dst = IpPrefix(IpAddr::V6({}), 0), .gateway = lab::kServers6.addr(), .dev = "eth0"}));
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<LabRuntime>> LabRuntime::Start(const Instance& inst,
                                                      const std::string& lab_bin, bool ipv6) {
  auto lab = std::unique_ptr<LabRuntime>(new LabRuntime());
  lab->inst_ = inst;
  lab->ipv6_ = ipv6;
  QNET_TRY(MakeDirs(inst.lab_dir(), 0700));
  QNET_TRY(WriteFile(inst.lab_dir() + "/records", lab::kDefaultRecords, 0644));
  QNET_TRY(WriteFile(inst.lab_dir() + "/dns.log", "", 0644));

  QNET_TRY(RecordNamespace(inst, inst.netns_name("lab-router")));
  QNET_ASSIGN_OR_RETURN(lab->router_fd_, runtime::CreatePinnedNetns(inst.netns_path("lab-router")));
  int rfd = lab->router_fd_.get();
  QNET_TRY(netlink::SetSysctlInNetns(rfd, "net/ipv4/ip_forward", "1"));
  if (ipv6) {
    QNET_TRY(netlink::SetSysctlInNetns(rfd, "net/ipv6/conf/all/forwarding", "1"));
    QNET_TRY(NoDad(rfd));
  } else {
    QNET_TRY(netlink::SetSysctlInNetns(rfd, "net/ipv6/conf/all/disable_ipv6", "1"));
    QNET_TRY(netlink::SetSysctlInNetns(rfd, "net/ipv6/conf/default/disable_ipv6", "1"));
  }
  {
    QNET_ASSIGN_OR_RETURN(netlink::Socket rtnl, netlink::Socket::OpenInNetns(NETLINK_ROUTE, rfd));
    QNET_TRY(netlink::SetLinkUp(rtnl, "lo", true));
    QNET_TRY(netlink::CreateBridge(rtnl, lab::kRouterBridge));
    QNET_TRY(netlink::AddAddress(rtnl, lab::kRouterBridge, lab::kServers4));
    if (ipv6)
      QNET_TRY(netlink::AddAddress(rtnl, lab::kRouterBridge, lab::kServers6, {.nodad = true}));
    QNET_TRY(netlink::SetLinkUp(rtnl, lab::kRouterBridge, true));
  }
  // Both hosts start before either is waited for: their start-ups overlap.
  QNET_ASSIGN_OR_RETURN(
      UniqueFd web_ready,
      lab->StartHost("web", {lab_bin, "web", "--ready-fd", std::to_string(kReadyFd)}, lab::kWeb4,
                     lab::kWeb6));
  QNET_ASSIGN_OR_RETURN(
      UniqueFd dns_ready,
      lab->StartHost("dns",
                     {lab_bin, "dns", "--records", inst.lab_dir() + "/records", "--log",
                      inst.lab_dir() + "/dns.log", "--ready-fd", std::to_string(kReadyFd)},
                     lab::kDns4, lab::kDns6));
  QNET_TRY(WaitReady(web_ready.get(), "web", std::chrono::seconds(10)));
  QNET_TRY(WaitReady(dns_ready.get(), "dns", std::chrono::seconds(10)));
  return lab;
}

Result<std::unique_ptr<LabRuntime>> LabRuntime::Adopt(const Instance& inst, bool ipv6) {
  auto lab = std::unique_ptr<LabRuntime>(new LabRuntime());
  lab->inst_ = inst;
  lab->ipv6_ = ipv6;
  lab->detached_ = true;
  QNET_ASSIGN_OR_RETURN(lab->router_fd_, OpenFd(inst.netns_path("lab-router"), O_RDONLY));
  return lab;
}

Result<UniqueFd> LabRuntime::StartHost(const std::string& name, std::vector<std::string> args,
                                       const IpAddr& addr4, const IpAddr& addr6) {
  const std::string ns_name = "lab-" + name;
  QNET_TRY(RecordNamespace(inst_, inst_.netns_name(ns_name)));
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return Fail(ErrnoError("pipe", errno));
  UniqueFd rd(pipefd[0]), wr(pipefd[1]);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  static char kPath[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {kPath, nullptr};
  const int wr_fd = wr.get();
  runtime::CloneSpec spec;
  spec.flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID;
  spec.child_fn = [&]() -> int {
    ::setsid();
    if (::dup2(wr_fd, kReadyFd) < 0) return 126;
    CloseFdsFrom(kReadyFd + 1);
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv.data(), envp);
    return 127;
  };
  QNET_ASSIGN_OR_RETURN(pid_t pid, runtime::CloneProcess(spec));
  hosts_.push_back(pid);
  wr.reset();
  QNET_TRY(runtime::PinNamespace(pid, "net", inst_.netns_path(ns_name)));
  QNET_ASSIGN_OR_RETURN(UniqueFd host_fd, OpenFd(inst_.netns_path(ns_name), O_RDONLY));
  if (ipv6_) QNET_TRY(NoDad(host_fd.get()));
  {
    QNET_ASSIGN_OR_RETURN(netlink::Socket rtnl,
                          netlink::Socket::OpenInNetns(NETLINK_ROUTE, router_fd_.get()));
    std::string veth = name + "0";
    QNET_TRY(netlink::CreateVeth(
        rtnl, {.name = veth, .peer_name = "eth0", .peer_netns_fd = host_fd.get()}));
    QNET_TRY(netlink::SetMaster(rtnl, veth, lab::kRouterBridge));
    QNET_TRY(netlink::SetLinkUp(rtnl, veth, true));
  }
  QNET_TRY(ConfigureHost(host_fd.get(), addr4, addr6, ipv6_));
  return rd;
}

Status LabRuntime::ConnectSysNet(int sysnet_netns_fd) {
  QNET_ASSIGN_OR_RETURN(netlink::Socket rtnl,
                        netlink::Socket::OpenInNetns(NETLINK_ROUTE, router_fd_.get()));
  QNET_TRY(netlink::CreateVeth(rtnl, {.name = lab::kRouterUplinkIf,
                                      .peer_name = lab::kSysNetUplinkIf,
                                      .peer_netns_fd = sysnet_netns_fd}));
  QNET_TRY(netlink::AddAddress(rtnl, lab::kRouterUplinkIf, lab::kRouterUplink4));
  if (ipv6_)
    QNET_TRY(netlink::AddAddress(rtnl, lab::kRouterUplinkIf, lab::kRouterUplink6, {.nodad = true}));
  return netlink::SetLinkUp(rtnl, lab::kRouterUplinkIf, true);
}

LabRuntime::~LabRuntime() {
  if (detached_) return;
  for (pid_t pid : hosts_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

}  // namespace qnet::chain
