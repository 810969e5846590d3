#include "qnet/tor/control_client.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <utility>

namespace qnet::tor {

namespace asio = boost::asio;
using boost::system::error_code;

const char* ClientStateName(ClientState s) {
  switch (s) {
    case ClientState::kStopped:
      return "stopped";
    case ClientState::kConnecting:
      return "connecting";
    case ClientState::kAuthenticating:
      return "authenticating";
    case ClientState::kReady:
      return "ready";
    case ClientState::kDisconnected:
      return "disconnected";
  }
  return "?";
}

class ControlClient::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::any_io_executor ex, ControlEndpoint endpoint, ClientOptions options)
      : ex_(ex),
        endpoint_(std::move(endpoint)),
        options_(std::move(options)),
        socket_(ex),
        connect_timer_(ex),
        backoff_timer_(ex),
        parser_(options_.limits),
        backoff_(options_.backoff_initial) {}

  void Start();
  void Stop();
  void Send(Command command, std::chrono::milliseconds deadline, ReplyHandler handler,
            bool internal);

  ClientState state_ = ClientState::kStopped;
  std::optional<AuthMethod> auth_method_;
  EventHandler on_event_;
  StateHandler on_state_;
  const ClientOptions& options() const { return options_; }

 private:
  struct Pending {
    Verb verb;
    ReplyHandler handler;
    std::unique_ptr<asio::steady_timer> timer;
  };

  void SetState(ClientState s, const Error* error = nullptr);
  void Connect();
  void OnConnected(error_code ec);
  void Authenticate();
  void AuthWith(const ProtocolInfoReply& info);
  void SafeCookie(std::vector<uint8_t> cookie);
  void FinishAuth(Result<Reply> reply, AuthMethod method);
  void Subscribe();
  void Read();
  void OnRead(error_code ec, size_t n);
  void Dispatch(Reply reply);
  void WriteNext();
  void Close(Error error);
  void ScheduleReconnect();
  // Fails the connection unless the reply is a 2xx.
  bool RequireOk(const Result<Reply>& reply, std::string_view what);

  asio::any_io_executor ex_;
  ControlEndpoint endpoint_;
  ClientOptions options_;
  asio::generic::stream_protocol::socket socket_;
  asio::steady_timer connect_timer_;
  asio::steady_timer backoff_timer_;
  ReplyParser parser_;
  std::deque<Pending> pending_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool stopped_ = true;
  uint64_t generation_ = 0;  // bumps on every close: stale handlers ignore themselves
  std::array<char, 8192> buffer_{};
  std::chrono::milliseconds backoff_;
};

void ControlClient::Impl::SetState(ClientState s, const Error* error) {
  state_ = s;
  if (on_state_) on_state_(s, error);
}

void ControlClient::Impl::Start() {
  if (state_ != ClientState::kStopped && state_ != ClientState::kDisconnected) return;
  stopped_ = false;
  backoff_timer_.cancel();
  Connect();
}

void ControlClient::Impl::Stop() {
  stopped_ = true;
  backoff_timer_.cancel();
  if (state_ != ClientState::kStopped && state_ != ClientState::kDisconnected)
    Close(Error(Errc::kUnavailable, "control client stopped"));
  state_ = ClientState::kStopped;
}

void ControlClient::Impl::Connect() {
  ++generation_;
  parser_ = ReplyParser(options_.limits);
  SetState(ClientState::kConnecting);
  asio::generic::stream_protocol::endpoint ep;
  if (const auto* unix_ep = std::get_if<UnixEndpoint>(&endpoint_)) {
    ep = asio::local::stream_protocol::endpoint(unix_ep->path);
  } else {
    const auto& tcp = std::get<TcpEndpoint>(endpoint_);
    error_code ec;
    auto addr = asio::ip::make_address(tcp.address, ec);
    if (ec) {
      Close(Error(Errc::kInvalidArgument, fmt::format("control port address '{}'", tcp.address)));
      return;
    }
    ep = asio::ip::tcp::endpoint(addr, tcp.port);
  }
  auto self = shared_from_this();
  const uint64_t gen = generation_;
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([self, gen](error_code ec) {
    if (ec || gen != self->generation_ || self->state_ != ClientState::kConnecting) return;
    self->Close(Error(Errc::kTimeout, "control port: connect timed out"));
  });
  socket_.async_connect(ep, [self, gen](error_code ec) {
    if (gen != self->generation_) return;
    self->OnConnected(ec);
  });
}

void ControlClient::Impl::OnConnected(error_code ec) {
  connect_timer_.cancel();
  if (ec) {
    Close(Error(Errc::kUnavailable, fmt::format("control port: connect: {}", ec.message()),
                ec.value()));
    return;
  }
  SetState(ClientState::kAuthenticating);
  Read();
  Authenticate();
}

bool ControlClient::Impl::RequireOk(const Result<Reply>& reply, std::string_view what) {
  if (!reply) return false;  // the connection closed already and said why
  if (!reply->IsOk()) {
    Close(
        Error(Errc::kPermissionDenied, fmt::format("{}: tor answered {}", what, reply->Summary())));
    return false;
  }
  return true;
}

void ControlClient::Impl::Authenticate() {
  auto self = shared_from_this();
  Send(
      ProtocolInfo(), options_.command_timeout,
      [self](Result<Reply> reply) {
        if (!self->RequireOk(reply, "control auth: PROTOCOLINFO")) return;
        auto info = ParseProtocolInfo(*reply);
        if (!info) return self->Close(info.error());
        self->AuthWith(*info);
      },
      /*internal=*/true);
}

void ControlClient::Impl::AuthWith(const ProtocolInfoReply& info) {
  auto method = ChooseAuthMethod(info, options_.credentials);
  if (!method) return Close(method.error());
  auto self = shared_from_this();
  const AuthMethod m = *method;
  auto finish = [self, m](Result<Reply> reply) { self->FinishAuth(std::move(reply), m); };
  switch (m) {
    case AuthMethod::kSafeCookie:
    case AuthMethod::kCookie: {
      auto cookie = ReadCookieFile(options_.credentials.cookie_file.value_or(info.cookie_file));
      if (!cookie) return Close(cookie.error());
      if (m == AuthMethod::kSafeCookie) return SafeCookie(std::move(*cookie));
      Command cmd = AuthenticateHex(*cookie);
      OPENSSL_cleanse(cookie->data(), cookie->size());
      return Send(std::move(cmd), options_.command_timeout, finish, true);
    }
    case AuthMethod::kHashedPassword: {
      auto cmd = AuthenticatePassword(*options_.credentials.password);
      if (!cmd) return Close(cmd.error());
      return Send(std::move(*cmd), options_.command_timeout, finish, true);
    }
    case AuthMethod::kNull:
      return Send(AuthenticateNull(), options_.command_timeout, finish, true);
  }
}

void ControlClient::Impl::SafeCookie(std::vector<uint8_t> cookie) {
  auto nonce = RandomNonce();
  if (!nonce) return Close(nonce.error());
  auto self = shared_from_this();
  auto client_nonce = *nonce;
  Send(
      AuthChallenge(client_nonce), options_.command_timeout,
      [self, cookie = std::move(cookie), client_nonce](Result<Reply> reply) mutable {
        auto wipe = [&cookie] { OPENSSL_cleanse(cookie.data(), cookie.size()); };
        if (!self->RequireOk(reply, "control auth: AUTHCHALLENGE")) return wipe();
        auto challenge = ParseAuthChallenge(*reply);
        if (!challenge) {
          wipe();
          return self->Close(challenge.error());
        }
        auto answer = SafeCookieResponse(cookie, client_nonce, *challenge);
        wipe();
        if (!answer) return self->Close(answer.error());
        Command cmd = AuthenticateHex(*answer);
        OPENSSL_cleanse(answer->data(), answer->size());
        self->Send(
            std::move(cmd), self->options_.command_timeout,
            [self](Result<Reply> r) { self->FinishAuth(std::move(r), AuthMethod::kSafeCookie); },
            true);
      },
      true);
}

void ControlClient::Impl::FinishAuth(Result<Reply> reply, AuthMethod method) {
  if (!RequireOk(reply, "control auth: AUTHENTICATE")) return;
  auth_method_ = method;
  Subscribe();
}

void ControlClient::Impl::Subscribe() {
  auto self = shared_from_this();
  auto ready = [self] {
    self->backoff_ = self->options_.backoff_initial;
    self->SetState(ClientState::kReady);
  };
  if (options_.events.empty()) return ready();
  auto cmd = SetEvents(options_.events);
  if (!cmd) return Close(cmd.error());
  Send(
      std::move(*cmd), options_.command_timeout,
      [self, ready](Result<Reply> reply) {
        if (!self->RequireOk(reply, "control: SETEVENTS")) return;
        ready();
      },
      true);
}

void ControlClient::Impl::Send(Command command, std::chrono::milliseconds deadline,
                               ReplyHandler handler, bool internal) {
  const bool open = internal
                        ? state_ == ClientState::kAuthenticating || state_ == ClientState::kReady
                        : state_ == ClientState::kReady;
  if (!open) {
    Error e(Errc::kUnavailable, fmt::format("{}: control connection not ready ({})",
                                            InfoOf(command.verb).name, ClientStateName(state_)));
    asio::post(ex_, [handler = std::move(handler), e = std::move(e)] { handler(e); });
    return;
  }
  SPDLOG_DEBUG("tor control: -> {}", command.ForLog());
  Pending p{command.verb, std::move(handler), std::make_unique<asio::steady_timer>(ex_)};
  auto self = shared_from_this();
  const uint64_t gen = generation_;
  const Verb verb = command.verb;
  p.timer->expires_after(deadline);
  p.timer->async_wait([self, gen, verb, deadline](error_code ec) {
    if (ec || gen != self->generation_) return;
    self->Close(Error(Errc::kTimeout, fmt::format("{}: no reply within {} ms", InfoOf(verb).name,
                                                  deadline.count())));
  });
  pending_.push_back(std::move(p));
  outbox_.push_back(std::move(command.line));
  WriteNext();
}

void ControlClient::Impl::WriteNext() {
  if (writing_ || outbox_.empty()) return;
  writing_ = true;
  auto self = shared_from_this();
  const uint64_t gen = generation_;
  asio::async_write(socket_, asio::buffer(outbox_.front()), [self, gen](error_code ec, size_t) {
    if (gen != self->generation_) return;
    self->writing_ = false;
    if (!self->outbox_.empty()) {
      OPENSSL_cleanse(self->outbox_.front().data(), self->outbox_.front().size());
      self->outbox_.pop_front();
    }
    if (ec) {
      return self->Close(
          Error(Errc::kIo, fmt::format("control port: write: {}", ec.message()), ec.value()));
    }
    self->WriteNext();
  });
}

void ControlClient::Impl::Read() {
  auto self = shared_from_this();
  const uint64_t gen = generation_;
  socket_.async_read_some(asio::buffer(buffer_), [self, gen](error_code ec, size_t n) {
    if (gen != self->generation_) return;
    self->OnRead(ec, n);
  });
}

void ControlClient::Impl::OnRead(error_code ec, size_t n) {
  if (ec) {
    Status finish = parser_.Finish();
    std::string why = ec == asio::error::eof ? "tor closed the connection"
                                             : fmt::format("read: {}", ec.message());
    if (!finish.ok()) why += fmt::format(" ({})", finish.error().message());
    return Close(Error(Errc::kUnavailable, fmt::format("control port: {}", why)));
  }
  const uint64_t gen = generation_;
  Status fed = parser_.Feed(std::string_view(buffer_.data(), n));
  // Replies complete before a refused byte are still delivered, in order.
  while (auto reply = parser_.Next()) {
    Dispatch(std::move(*reply));
    if (gen != generation_) return;  // a handler closed or restarted the connection
  }
  if (!fed.ok()) return Close(fed.error());
  Read();
}

void ControlClient::Impl::Dispatch(Reply reply) {
  if (reply.IsEvent()) {
    auto event = ParseEvent(reply);
    if (!event) return Close(event.error());
    if (on_event_) on_event_(*event);
    return;
  }
  if (pending_.empty()) {
    return Close(Error(Errc::kProtocol,
                       fmt::format("control port: reply to no command ({})", reply.Summary())));
  }
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  p.timer->cancel();
  p.handler(std::move(reply));
}

void ControlClient::Impl::Close(Error error) {
  ++generation_;
  error_code ignored;
  socket_.cancel(ignored);
  socket_.close(ignored);
  connect_timer_.cancel();
  for (std::string& s : outbox_) OPENSSL_cleanse(s.data(), s.size());
  outbox_.clear();
  writing_ = false;
  std::deque<Pending> failed = std::move(pending_);
  pending_.clear();
  spdlog::info("tor control: connection closed: {}", error.message());
  SetState(ClientState::kDisconnected, &error);
  for (Pending& p : failed) {
    p.timer->cancel();
    Error e = error.Wrap(InfoOf(p.verb).name);
    asio::post(ex_, [h = std::move(p.handler), e = std::move(e)] { h(e); });
  }
  if (!stopped_ && options_.reconnect) ScheduleReconnect();
}

void ControlClient::Impl::ScheduleReconnect() {
  auto self = shared_from_this();
  backoff_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);
  backoff_timer_.async_wait([self](error_code ec) {
    if (ec || self->stopped_ || self->state_ != ClientState::kDisconnected) return;
    self->Connect();
  });
}

// ---- ControlClient ----

ControlClient::ControlClient(asio::any_io_executor executor, ControlEndpoint endpoint,
                             ClientOptions options)
    : impl_(std::make_shared<Impl>(executor, std::move(endpoint), std::move(options))) {}

ControlClient::~ControlClient() {
  impl_->on_event_ = nullptr;
  impl_->on_state_ = nullptr;
  impl_->Stop();
}

void ControlClient::OnEvent(EventHandler handler) { impl_->on_event_ = std::move(handler); }
void ControlClient::OnState(StateHandler handler) { impl_->on_state_ = std::move(handler); }
void ControlClient::Start() { impl_->Start(); }
void ControlClient::Stop() { impl_->Stop(); }
ClientState ControlClient::state() const { return impl_->state_; }
std::optional<AuthMethod> ControlClient::auth_method() const { return impl_->auth_method_; }

void ControlClient::Send(Command command, ReplyHandler handler) {
  Send(std::move(command), impl_->options().command_timeout, std::move(handler));
}
void ControlClient::Send(Command command, std::chrono::milliseconds deadline,
                         ReplyHandler handler) {
  impl_->Send(std::move(command), deadline, std::move(handler), /*internal=*/false);
}

}  // namespace qnet::tor
