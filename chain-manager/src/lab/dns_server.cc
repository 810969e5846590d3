#include "qnet/lab/dns_server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "qnet/lab/dns_resolver.h"

namespace qnet::lab {
namespace {

using asio::ip::tcp;

constexpr auto kTcpIdleTimeout = std::chrono::seconds(10);
constexpr int kMaxMessagesPerConnection = 100;
constexpr size_t kMaxTcpConnections = 128;
constexpr size_t kMaxTcpReply = 65535;

// One TCP client: length-prefixed messages (RFC 1035 4.2.2), answered in
// order, until EOF, an idle timeout, or kMaxMessagesPerConnection.
class DnsTcpSession : public std::enable_shared_from_this<DnsTcpSession> {
 public:
  DnsTcpSession(tcp::socket socket, ConnectionSlot slot, DnsServer* server)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        slot_(std::move(slot)),
        server_(server) {}

  void Start() {
    boost::system::error_code ec;
    peer_ = socket_.remote_endpoint(ec).address();
    if (ec) return;
    ReadLength();
  }

 private:
  void ArmTimer() {
    timer_.expires_after(kTcpIdleTimeout);
    // A weak reference: the timer alone must not keep a finished session alive.
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
  }

  void ReadLength() {
    ArmTimer();
    asio::async_read(socket_, asio::buffer(length_),
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                       if (ec) return;
                       size_t size =
                           (static_cast<size_t>(self->length_[0]) << 8) | self->length_[1];
                       if (size == 0) return;
                       self->message_.resize(size);
                       self->ReadMessage();
                     });
  }

  void ReadMessage() {
    asio::async_read(socket_, asio::buffer(message_),
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                       if (!ec) self->Answer();
                     });
  }

  void Answer() {
    auto reply = server_->HandleMessage(message_, peer_, "tcp", kMaxTcpReply);
    if (reply.empty()) return;
    out_.assign({static_cast<uint8_t>(reply.size() >> 8), static_cast<uint8_t>(reply.size())});
    out_.insert(out_.end(), reply.begin(), reply.end());
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        if (ec || ++self->answered_ >= kMaxMessagesPerConnection) return;
                        self->ReadLength();
                      });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  ConnectionSlot slot_;
  DnsServer* server_;  // outlives every handler: handlers run only inside io_context::run
  asio::ip::address peer_;
  std::array<uint8_t, 2> length_{};
  std::vector<uint8_t> message_;
  std::vector<uint8_t> out_;
  int answered_ = 0;
};

}  // namespace

DnsServer::DnsServer(DnsServerOptions options, RecordSet records, QueryLog log)
    : options_(std::move(options)),
      records_(std::move(records)),
      log_(std::move(log)),
      budget_(kMaxTcpConnections) {}

Result<std::unique_ptr<DnsServer>> DnsServer::Start(asio::io_context& io,
                                                    DnsServerOptions options) {
  // Stamp before reading, so a write racing the first load is seen as a change.
  FileStamp stamp = StampOf(options.records_path);
  QNET_ASSIGN_OR_RETURN(RecordSet records, LoadRecords(options.records_path));
  QNET_ASSIGN_OR_RETURN(QueryLog log, QueryLog::Open(options.log_path));
  QNET_ASSIGN_OR_RETURN(auto udp_sockets, BindUdpAll(io, options.binds, options.port));
  QNET_ASSIGN_OR_RETURN(auto acceptors, ListenTcpAll(io, options.binds, options.port));
  std::unique_ptr<DnsServer> server(
      new DnsServer(std::move(options), std::move(records), std::move(log)));
  server->stamp_ = stamp;
  DnsServer* self = server.get();
  for (auto& s : udp_sockets) {
    server->udp_.push_back(std::make_unique<UdpResponder>(
        std::move(s), "dns",
        [self](std::span<const uint8_t> msg,
               const asio::ip::address& source) -> std::optional<std::vector<uint8_t>> {
          auto reply = self->HandleMessage(msg, source, "udp", kMaxUdpResponse);
          if (reply.empty()) return std::nullopt;
          return reply;
        }));
    server->udp_.back()->Start();
  }
  for (auto& a : acceptors) {
    server->tcp_.push_back(std::make_unique<TcpListener>(
        std::move(a), &server->budget_, "dns", [self](tcp::socket s, ConnectionSlot slot) {
          std::make_shared<DnsTcpSession>(std::move(s), std::move(slot), self)->Start();
        }));
    server->tcp_.back()->Start();
  }
  return server;
}

void DnsServer::OnHangup() { Reload("SIGHUP"); }

DnsServer::FileStamp DnsServer::StampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return FileStamp{};
  return FileStamp{true, st.st_dev, st.st_ino, st.st_size,
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

void DnsServer::ReloadIfChanged() {
  FileStamp now = StampOf(options_.records_path);
  if (now == stamp_) return;
  if (!now.exists) {
    stamp_ = now;
    spdlog::warn("records file {} is gone; keeping the previous records", options_.records_path);
    return;
  }
  Reload("file changed");
}

void DnsServer::Reload(const char* why) {
  // Remember the stamp even when the load fails, so a bad file is reported
  // once and not on every query; the next edit changes the stamp again.
  stamp_ = StampOf(options_.records_path);
  auto records = LoadRecords(options_.records_path);
  if (!records) {
    spdlog::error("reload ({}): {}; keeping the previous records", why, records.error().message());
    return;
  }
  records_ = std::move(*records);
  spdlog::info("reloaded {} ({}): {} names", options_.records_path, why, records_.name_count());
}

std::vector<uint8_t> DnsServer::HandleMessage(std::span<const uint8_t> msg,
                                              const asio::ip::address& source,
                                              std::string_view proto, size_t max_reply) {
  ReloadIfChanged();
  DnsExchange ex = AnswerMessage(msg, records_, max_reply);
  Status logged = log_.Append(AddressText(source), proto, ex.qname, ex.qtype);
  if (!logged) spdlog::error("query log: {}", logged.error().message());
  return std::move(ex.reply);
}

}  // namespace qnet::lab
