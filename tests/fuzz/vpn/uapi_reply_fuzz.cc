// Any bytes as a reply from a (possibly compromised) wireguard-go: the UAPI
// parsers return a Device, OK or an Error, and never crash or read out of
// bounds; an error never quotes a key's value.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "qnet/vpn/wg_uapi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string reply(reinterpret_cast<const char*>(data), size);
  auto device = qnet::vpn::ParseUapiGet(reply);
  if (device) {
    // What was read can be written as a set request.
    if (!qnet::vpn::BuildUapiSet(*device)) std::abort();
  }
  (void)qnet::vpn::ParseUapiErrno(reply);
  return 0;
}
