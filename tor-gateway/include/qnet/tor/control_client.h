// ControlClient: tor's control port over Boost.Asio, one connection (a Unix
// socket or TCP), commands pipelined and answered in order.
//
// Lifecycle: Start() connects, authenticates (PROTOCOLINFO, then
// SAFECOOKIE, COOKIE, HASHEDPASSWORD or NULL as tor offers, auth.h),
// subscribes the configured events, and reports kReady. Any failure closes
// the connection: every pending command's handler gets the error (wrapped
// with the command's verb), the state handler gets kDisconnected with the
// error, and with `reconnect` the client tries again after a back-off that
// doubles from backoff_initial to backoff_max (reset by each kReady).
//
// The connection is closed (never resynchronised) when tor sends bytes the
// parser refuses (control_reply.h), an event qnet cannot read, a reply
// while no command is pending, or does not answer a command within its
// deadline (kTimeout): after any of these the stream can no longer be
// trusted to pair replies with commands.
//
// Secrets (cookie, password, SAFECOOKIE hashes, ADD_ONION keys) are never
// logged: the client logs Command::ForLog() only, at debug level.
//
// Threading: every method and every handler runs on the executor given to
// the constructor (use a strand or a single-threaded io_context). Handlers
// are always invoked asynchronously, never from inside Send(). Destroying
// the client closes the connection; handlers of pending commands then run
// with kUnavailable while the executor still runs.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/tor/auth.h"
#include "qnet/tor/control_command.h"
#include "qnet/tor/control_reply.h"
#include "qnet/tor/control_types.h"

namespace qnet::tor {

struct UnixEndpoint {
  std::string path;
};
struct TcpEndpoint {
  std::string address;  // IP literal
  uint16_t port = 0;
};
using ControlEndpoint = std::variant<UnixEndpoint, TcpEndpoint>;

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds command_timeout{10000};  // default deadline per command
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{10000};
  bool reconnect = true;
  Credentials credentials;
  std::vector<EventType> events;  // SETEVENTS after every (re)connect
  ReplyLimits limits;
};

enum class ClientState : uint8_t { kStopped, kConnecting, kAuthenticating, kReady, kDisconnected };
const char* ClientStateName(ClientState s);

class ControlClient {
 public:
  using ReplyHandler = std::function<void(Result<Reply>)>;
  using EventHandler = std::function<void(const Event&)>;
  // error: why the connection closed (kDisconnected only), else nullptr.
  using StateHandler = std::function<void(ClientState, const Error*)>;

  ControlClient(boost::asio::any_io_executor executor, ControlEndpoint endpoint,
                ClientOptions options);
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  void OnEvent(EventHandler handler);
  void OnState(StateHandler handler);

  // Connects (again); no effect unless stopped or disconnected.
  void Start();
  // Closes the connection and stops reconnecting; pending commands fail
  // with kUnavailable.
  void Stop();
  ClientState state() const;
  // The method the last successful authentication used.
  std::optional<AuthMethod> auth_method() const;

  // Sends a command once kReady; the handler gets tor's reply (any status
  // code: a 5xx reply is a Reply, not an Error) or an Error: kUnavailable
  // when not ready or the connection closed, kTimeout past the deadline
  // (the connection is then closed), kProtocol for a hostile stream.
  void Send(Command command, ReplyHandler handler);
  void Send(Command command, std::chrono::milliseconds deadline, ReplyHandler handler);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace qnet::tor
