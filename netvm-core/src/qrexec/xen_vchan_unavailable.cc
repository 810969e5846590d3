// MakeXenVchanTransport when qnet is built without libxenvchan.
#include "qnet/qrexec/transport.h"

namespace qnet::qrexec {

Result<std::unique_ptr<Transport>> MakeXenVchanTransport() {
  return Fail(Errc::kUnavailable,
              "qrexec: built without libxenvchan (apt-get install libxen-dev, then rebuild)");
}

}  // namespace qnet::qrexec
