// The lab's authoritative DNS server on UDP and TCP. Every received message
// is logged to the query log (leak evidence) before it is answered. The
// records file is re-read on SIGHUP (OnHangup) and whenever its identity,
// size or mtime changed (checked with stat(2) on each query); a bad file is
// reported with "FILE:LINE: reason" and the previous records stay in force.
// Single-threaded: everything runs on the io_context passed to Start.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "qnet/base/result.h"
#include "qnet/lab/bind.h"
#include "qnet/lab/connection_budget.h"
#include "qnet/lab/dns_records.h"
#include "qnet/lab/query_log.h"
#include "qnet/lab/service.h"
#include "qnet/lab/tcp_listener.h"
#include "qnet/lab/udp_responder.h"

namespace qnet::lab {

struct DnsServerOptions {
  std::string records_path;
  std::string log_path;
  std::vector<BindSpec> binds;
  uint16_t port = 53;
};

class DnsServer : public LabService {
 public:
  // Loads the records (an error names FILE:LINE), opens the log, binds UDP
  // and TCP on every address and starts serving.
  static Result<std::unique_ptr<DnsServer>> Start(asio::io_context& io, DnsServerOptions options);

  ~DnsServer() override = default;
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  void OnHangup() override;

  // Logs one message from source over proto ("udp"/"tcp") and returns the
  // reply (empty: none). Used by the socket handlers.
  std::vector<uint8_t> HandleMessage(std::span<const uint8_t> msg, const asio::ip::address& source,
                                     std::string_view proto, size_t max_reply);

 private:
  struct FileStamp {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };

  DnsServer(DnsServerOptions options, RecordSet records, QueryLog log);
  static FileStamp StampOf(const std::string& path);
  void ReloadIfChanged();
  void Reload(const char* why);

  DnsServerOptions options_;
  RecordSet records_;
  FileStamp stamp_;
  QueryLog log_;
  ConnectionBudget budget_;
  std::vector<std::unique_ptr<UdpResponder>> udp_;
  std::vector<std::unique_ptr<TcpListener>> tcp_;
};

}  // namespace qnet::lab
