// The Xen vchan transport (transport.h), compiled when libxenvchan is found.
// It cannot run outside Xen; no test runs it here.
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <thread>
#include <vector>

#include "deadline.h"
#include "qnet/qrexec/transport.h"

extern "C" {
#include <libxenvchan.h>
}

namespace qnet::qrexec {
namespace {

// Qubes' libvchan-xen ring sizes.
constexpr size_t kRingSize = 65536;

struct VchanDeleter {
  void operator()(libxenvchan* vchan) const { libxenvchan_close(vchan); }
};
using VchanPtr = std::unique_ptr<libxenvchan, VchanDeleter>;

std::string ServerPath(const VchanAddress& a) {
  return fmt::format("data/vchan/{}/{}", a.client_domain, a.port);
}
std::string ClientPath(const VchanAddress& a) {
  return fmt::format("/local/domain/{}/data/vchan/{}/{}", a.server_domain, a.client_domain, a.port);
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Moves bytes between the vchan and `local` until either side ends. Runs on
// a thread of its own that owns both.
void Bridge(VchanPtr vchan, UniqueFd local) {
  std::vector<char> buf(kRingSize);
  bool local_open = true;
  while (local_open && libxenvchan_is_open(vchan.get()) == 1) {
    int space = libxenvchan_buffer_space(vchan.get());
    pollfd fds[2] = {{libxenvchan_fd_for_select(vchan.get()), POLLIN, 0},
                     {local.get(), static_cast<short>(space > 0 ? POLLIN : 0), 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[0].revents & POLLIN) libxenvchan_wait(vchan.get());
    // vchan -> local (blocking writes: a slow reader holds the vchan back).
    while (libxenvchan_data_ready(vchan.get()) > 0) {
      int n = libxenvchan_read(vchan.get(), buf.data(), buf.size());
      if (n <= 0) return;
      if (!SendAll(local.get(), std::string_view(buf.data(), static_cast<size_t>(n)))) return;
    }
    // local -> vchan, as much as the ring takes.
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      space = libxenvchan_buffer_space(vchan.get());
      if (space <= 0) continue;
      ssize_t n = ::read(local.get(), buf.data(), std::min<size_t>(buf.size(), space));
      if (n <= 0) {
        local_open = false;  // the caller closed: close the vchan
        break;
      }
      if (libxenvchan_write(vchan.get(), buf.data(), static_cast<size_t>(n)) != n) return;
    }
  }
}

Result<UniqueFd> StartBridge(VchanPtr vchan) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return Fail(ErrnoError("socketpair", errno));
  }
  UniqueFd ours(fds[0]);
  // The thread owns the vchan and its end of the pair; it ends when either
  // side closes.
  std::thread(Bridge, std::move(vchan), UniqueFd(fds[1])).detach();
  return ours;
}

// Waits until the vchan's state is no longer `state` (2: no client yet).
Status WaitWhile(libxenvchan* vchan, int state, std::chrono::milliseconds timeout,
                 const std::string& what) {
  Deadline deadline = Deadline::After(timeout);
  while (libxenvchan_is_open(vchan) == state) {
    pollfd pfd{libxenvchan_fd_for_select(vchan), POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(deadline.Remaining()->count()));
    if (n < 0 && errno != EINTR) return Fail(ErrnoError("poll", errno));
    if (n == 0)
      return Fail(Errc::kTimeout, fmt::format("{}: no peer within {} ms", what, timeout.count()));
    if (n > 0) libxenvchan_wait(vchan);
  }
  return OkStatus();
}

class XenVchanTransport : public Transport {
 public:
  Result<UniqueFd> Accept(const VchanAddress& address, std::chrono::milliseconds timeout) override {
    std::string path = ServerPath(address);
    VchanPtr vchan(libxenvchan_server_init(nullptr, static_cast<int>(address.client_domain),
                                           path.c_str(), kRingSize, kRingSize));
    if (!vchan) return Fail(ErrnoError(fmt::format("vchan server {}", path), errno));
    vchan->blocking = 0;
    QNET_TRY(WaitWhile(vchan.get(), 2, timeout, path));
    return StartBridge(std::move(vchan));
  }

  Result<UniqueFd> Connect(const VchanAddress& address,
                           std::chrono::milliseconds timeout) override {
    std::string path = ClientPath(address);
    Deadline deadline = Deadline::After(timeout);
    while (true) {
      VchanPtr vchan(
          libxenvchan_client_init(nullptr, static_cast<int>(address.server_domain), path.c_str()));
      if (vchan) {
        vchan->blocking = 0;
        return StartBridge(std::move(vchan));
      }
      // The server may not have published the vchan yet.
      if (*deadline.Remaining() == std::chrono::milliseconds(0)) {
        return Fail(Errc::kTimeout,
                    fmt::format("{}: no server within {} ms", path, timeout.count()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
};

}  // namespace

Result<std::unique_ptr<Transport>> MakeXenVchanTransport() {
  return std::unique_ptr<Transport>(std::make_unique<XenVchanTransport>());
}

}  // namespace qnet::qrexec
