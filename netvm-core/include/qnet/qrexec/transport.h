// Transports for qrexec links: how two endpoints get a byte stream between
// them. Qubes runs its links over Xen vchans; its vchan-over-sockets library
// (used for tests and non-Xen backends) uses one Unix stream socket per vchan,
// named after the two domains and the port:
//   <socket dir>/vchan.<server_domid>.<client_domid>.<port>.sock
// with the control channel of a qube on port 512 and the data channels of
// its calls on ports from 513. The bytes on the socket are the qrexec frames,
// nothing else (qnet's own extra, file descriptors passed with a command on
// its control channel, exists only on this transport).
//
// The Xen vchan transport (libxenvchan, Debian's libxen-dev) is compiled when
// the library is found and cannot run outside Xen: see the module README.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "qnet/base/fd.h"
#include "qnet/base/result.h"

namespace qnet::qrexec {

// VCHAN_BASE_PORT: a qube's control channel.
inline constexpr uint32_t kControlPort = 512;
// The first data-channel port.
inline constexpr uint32_t kFirstDataPort = 513;

// One vchan: the domain that listens, the domain that connects, the port.
struct VchanAddress {
  uint32_t server_domain = 0;
  uint32_t client_domain = 0;
  uint32_t port = kControlPort;
  bool operator==(const VchanAddress&) const = default;
};

// "vchan.<server>.<client>.<port>.sock".
std::string VchanSocketName(const VchanAddress& address);
// The inverse; kInvalidArgument naming the part that is wrong.
Result<VchanAddress> ParseVchanSocketName(std::string_view name);

// Makes the stream of one vchan. Implementations are thread-safe: many
// channels may be set up at once.
class Transport {
 public:
  virtual ~Transport() = default;
  // The server end: waits up to `timeout` for the client to connect and
  // returns the connected stream (blocking, close-on-exec). The address is
  // free again once this returns. kTimeout, kAlreadyExists (someone serves
  // that address), kIo.
  virtual Result<UniqueFd> Accept(const VchanAddress& address,
                                  std::chrono::milliseconds timeout) = 0;
  // The client end: connects, waiting up to `timeout` for the server to
  // appear (Qubes' clients may start first). kTimeout, kIo.
  virtual Result<UniqueFd> Connect(const VchanAddress& address,
                                   std::chrono::milliseconds timeout) = 0;
};

// Qubes' vchan-over-sockets naming in a directory the caller owns.
class UnixSocketTransport : public Transport {
 public:
  explicit UnixSocketTransport(std::string socket_dir) : dir_(std::move(socket_dir)) {}
  Result<UniqueFd> Accept(const VchanAddress& address, std::chrono::milliseconds timeout) override;
  Result<UniqueFd> Connect(const VchanAddress& address, std::chrono::milliseconds timeout) override;
  // The socket path of an address.
  std::string PathOf(const VchanAddress& address) const;

 private:
  std::string dir_;
};

// Xen vchans through libxenvchan, named as Qubes' libvchan-xen names them
// (server: xenstore "data/vchan/<client>/<port>"; client:
// "/local/domain/<server>/data/vchan/<client>/<port>"). Each vchan is bridged
// to a socket pair by a thread of its own, so callers see a stream fd as with
// the socket transport. kUnavailable "built without libxenvchan" when qnet
// was built without the library; never run by the tests (no Xen here).
Result<std::unique_ptr<Transport>> MakeXenVchanTransport();

}  // namespace qnet::qrexec
