// The tor capability's rules in a real kernel, between two namespaces: a
// workstation (A) and a gateway (B) joined by a veth (workstation eth0 <->
// gateway vif12.0), the gateway's uplink a dummy eth0. No tor runs here:
// listeners on the gateway's TransPort and DNSPort stand in for it, so the
// test shows what the kernel does with the packets (refused while the gate
// is closed, redirected once it is open, never forwarded).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "../netlink/netns_fixture.h"
#include "qnet/netlink/route.h"
#include "qnet/netlink/sysctl.h"
#include "qnet/nft/base_table.h"
#include "qnet/nft/readback.h"
#include "qnet/nft/transaction.h"
#include "qnet/tor/transparent_rules.h"

namespace qnet::tor {
namespace {

using namespace std::chrono_literals;

#define ASSERT_OK(expr)                                                      \
  do {                                                                       \
    Status qnet_s_ = (expr);                                                 \
    ASSERT_TRUE(qnet_s_.ok()) << #expr << ": " << qnet_s_.error().message(); \
  } while (0)

constexpr char kGw[] = "10.137.0.5";
constexpr char kWs[] = "10.137.0.12";

sockaddr_in Sin(const std::string& addr, uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  ::inet_pton(AF_INET, addr.c_str(), &sin.sin_addr);
  return sin;
}

// A socket created inside netns_fd.
Result<UniqueFd> SocketIn(int netns_fd, int type) {
  Result<UniqueFd> out = Fail(Errc::kInternal, "unset");
  QNET_TRY(netlink::RunInNetns(netns_fd, [&]() -> Status {
    UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    if (!fd) return Fail(ErrnoError("socket", errno));
    out = std::move(fd);
    return OkStatus();
  }));
  return out;
}

// Connects within `limit`: 0 on success, else the errno (ETIMEDOUT when no
// answer came at all: a hang, which the gate must never cause).
int TcpConnect(int fd, const std::string& addr, uint16_t port, std::chrono::milliseconds limit) {
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  sockaddr_in sin = Sin(addr, port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count())) == 0) return ETIMEDOUT;
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err;
}

class GatewayRulesNetns : public testing::TwoNetnsTest {
 protected:
  void SetUp() override {
    TwoNetnsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Workstation A: eth0 10.137.0.12/24, default via the gateway.
    ASSERT_OK(netlink::CreateVeth(
        A(), {.name = "eth0", .peer_name = "vif12.0", .peer_netns_fd = b_.fd()}));
    ASSERT_OK(netlink::AddAddress(A(), "eth0", *IpPrefix::Parse("10.137.0.12/24")));
    ASSERT_OK(netlink::SetLinkUp(A(), "eth0", true));
    ASSERT_OK(netlink::SetLinkUp(A(), "lo", true));
    ASSERT_OK(netlink::AddRoute(
        A(), {.dst = *IpPrefix::Parse("0.0.0.0/0"), .gateway = *IpAddr::Parse(kGw)}));
    // Gateway B: vif12.0 10.137.0.5/24; uplink a dummy eth0 with a default
    // route, so that forwarding had somewhere to go if the rules let it.
    ASSERT_OK(netlink::AddAddress(B(), "vif12.0", *IpPrefix::Parse("10.137.0.5/24")));
    ASSERT_OK(netlink::SetLinkUp(B(), "vif12.0", true));
    // (a veth pair inside B: no module beyond veth needed)
    ASSERT_OK(netlink::CreateVeth(B(), {.name = "eth0", .peer_name = "uplink-peer"}));
    ASSERT_OK(netlink::SetLinkUp(B(), "uplink-peer", true));
    ASSERT_OK(netlink::AddAddress(B(), "eth0", *IpPrefix::Parse("198.51.100.2/24")));
    ASSERT_OK(netlink::SetLinkUp(B(), "eth0", true));
    ASSERT_OK(netlink::SetLinkUp(B(), "lo", true));
    ASSERT_OK(netlink::AddRoute(
        B(), {.dst = *IpPrefix::Parse("0.0.0.0/0"), .gateway = *IpAddr::Parse("198.51.100.1")}));
    ASSERT_OK(netlink::SetSysctlInNetns(b_.fd(), "net/ipv4/ip_forward", "1"));

    auto nf = netlink::Socket::OpenInNetns(NETLINK_NETFILTER, b_.fd());
    ASSERT_TRUE(nf.has_value()) << nf.error().message();
    nf_.emplace(std::move(*nf));
    GatewayRulesParams params;
    params.uplink = "eth0";
    params.gateway_address = *IpAddr::Parse(kGw);
    params.tor_uid = 4242;
    auto rules = BuildGatewayRules(params, Gate::kClosed);
    ASSERT_TRUE(rules.has_value()) << rules.error().message();
    rules_ = *rules;
    Commit(nft::LockdownBatch());
    Commit(nft::InstallCapabilitiesBatch({std::string(kCapability)}));
    Commit(ApplyBatch(rules_));

    // Stand-ins for tor's TransPort and DNSPort.
    auto trans = SocketIn(b_.fd(), SOCK_STREAM);
    ASSERT_TRUE(trans.has_value());
    trans_ = std::move(*trans);
    int one = 1;
    ::setsockopt(trans_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in t = Sin(kGw, 9040);
    ASSERT_EQ(::bind(trans_.get(), reinterpret_cast<sockaddr*>(&t), sizeof t), 0);
    ASSERT_EQ(::listen(trans_.get(), 8), 0);
    auto dns = testing::UdpSocketIn(b_.fd(), kGw, 5300);
    ASSERT_TRUE(dns.has_value()) << dns.error().message();
    dns_ = std::move(*dns);
  }

  void Commit(const nft::Batch& b) {
    Status s = nft::Commit(*nf_, b);
    ASSERT_TRUE(s.ok()) << s.error().message();
  }

  uint64_t Counter(std::string_view name) {
    auto st = nft::ReadTable(*nf_, nft::Family::kInet, nft::kQnetTableName);
    if (!st) return ~0ull;
    const nft::CounterState* c = st->FindCounter(name);
    return c ? c->packets : ~0ull;
  }

  // A UDP datagram from the workstation to addr:port; true when the DNSPort
  // stand-in received it.
  bool DnsReachesDnsPort(const std::string& addr, uint16_t port) {
    auto s = SocketIn(a_.fd(), SOCK_DGRAM);
    if (!s) return false;
    EXPECT_TRUE(testing::SendUdp(s->get(), addr, port, "query").ok());
    char buf[64];
    ssize_t n = ::recv(dns_.get(), buf, sizeof buf, 0);  // 500 ms timeout
    return n == 5;
  }

  std::optional<netlink::Socket> nf_;
  GatewayRules rules_;
  UniqueFd trans_;
  UniqueFd dns_;
};

TEST_F(GatewayRulesNetns, KernelHoldsExactlyTheRulesBuilt) {
  auto st = nft::ReadTable(*nf_, nft::Family::kInet, nft::kQnetTableName);
  ASSERT_TRUE(st.has_value()) << st.error().message();
  for (const auto& [name, rules] : rules_.chains) {
    const nft::ChainState* c = st->FindChain(name);
    ASSERT_NE(c, nullptr) << name;
    std::vector<nft::Rule> got;
    for (const nft::RuleState& r : c->rules) got.push_back(r.rule);
    EXPECT_EQ(got, rules) << name;
  }
  ASSERT_NE(st->FindSet(kGateSet), nullptr);
  EXPECT_TRUE(st->FindSet(kGateSet)->elements.empty());
  Commit(GateBatch(Gate::kOpen));
  st = nft::ReadTable(*nf_, nft::Family::kInet, nft::kQnetTableName);
  EXPECT_EQ(st->FindSet(kGateSet)->elements.size(), 2u);
}

TEST_F(GatewayRulesNetns, ClosedGateRefusesTcpAndDnsAtOnceOpenGateRedirectsThem) {
  // Closed: a TCP connection to the lab web server is reset at once (not
  // left hanging), DNS gets port unreachable; nothing reaches the stand-ins.
  auto s1 = SocketIn(a_.fd(), SOCK_STREAM);
  ASSERT_TRUE(s1.has_value());
  auto start = std::chrono::steady_clock::now();
  // A hang would last the whole 10 s connect timeout; a reset comes at once
  // (2 s leaves room for a loaded machine).
  EXPECT_EQ(TcpConnect(s1->get(), "203.0.113.10", 80, 10000ms), ECONNREFUSED);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);
  EXPECT_FALSE(DnsReachesDnsPort("10.139.1.1", 53));
  EXPECT_GE(Counter(kRefusedCounter), 2u);

  // Open: the same connection lands on TransPort, with its original
  // destination (what tor reads with SO_ORIGINAL_DST); DNS to any server,
  // the lab's own included, lands on DNSPort.
  Commit(GateBatch(Gate::kOpen));
  auto s2 = SocketIn(a_.fd(), SOCK_STREAM);
  ASSERT_TRUE(s2.has_value());
  EXPECT_EQ(TcpConnect(s2->get(), "203.0.113.10", 80, 3000ms), 0);
  UniqueFd conn(::accept(trans_.get(), nullptr, nullptr));
  ASSERT_TRUE(conn);
  sockaddr_in orig{};
  socklen_t len = sizeof orig;
  ASSERT_EQ(::getsockopt(conn.get(), SOL_IP, SO_ORIGINAL_DST, &orig, &len), 0);
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &orig.sin_addr, text, sizeof text);
  EXPECT_EQ(std::string(text), "203.0.113.10");
  EXPECT_EQ(ntohs(orig.sin_port), 80);
  EXPECT_TRUE(DnsReachesDnsPort("10.139.1.1", 53));
  EXPECT_TRUE(DnsReachesDnsPort("203.0.113.53", 53));

  // Closed again: refused again.
  Commit(GateBatch(Gate::kClosed));
  auto s3 = SocketIn(a_.fd(), SOCK_STREAM);
  EXPECT_EQ(TcpConnect(s3->get(), "203.0.113.10", 80, 3000ms), ECONNREFUSED);
}

TEST_F(GatewayRulesNetns, UdpAndIcmpFromTheWorkstationAreNeverForwarded) {
  Commit(GateBatch(Gate::kOpen));
  const uint64_t before = Counter(kForwardDropCounter);
  auto s = SocketIn(a_.fd(), SOCK_DGRAM);
  ASSERT_TRUE(s.has_value());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(testing::SendUdp(s->get(), "203.0.113.10", 7, "x").ok());
  EXPECT_TRUE(testing::WaitFor([&] { return Counter(kForwardDropCounter) >= before + 5; }, 2000ms))
      << Counter(kForwardDropCounter);
  // Positive control: DNS from the same socket is redirected (the path works).
  EXPECT_TRUE(DnsReachesDnsPort("203.0.113.53", 53));
}

}  // namespace
}  // namespace qnet::tor
