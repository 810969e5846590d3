// A scripted stand-in for tor's control port, for the client's error paths:
// listens on a Unix socket in a fresh temp dir and answers each command
// line with whatever the script returns (bytes to send, nothing = hang, or
// a close). Test-only, single-threaded, runs on the test's io_context.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qnet::tor::testing {

struct Answer {
  std::string bytes;   // sent as is
  bool close = false;  // then close the connection
};

class FakeTor {
 public:
  // The script sees each command line (without CRLF) and the connection's
  // number (0 for the first).
  using Script = std::function<Answer(const std::string& line, int connection)>;

  FakeTor(boost::asio::io_context& io, Script script)
      : io_(io), script_(std::move(script)), acceptor_(io) {
    char tmpl[] = "/tmp/qnet-faketor-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/control";
    acceptor_.open();
    acceptor_.bind(boost::asio::local::stream_protocol::endpoint(path_));
    acceptor_.listen();
    Accept();
  }
  ~FakeTor() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& c : conns_) c->socket.close(ec);
    std::filesystem::remove_all(dir_);
  }

  const std::string& path() const { return path_; }
  const std::string& dir() const { return dir_; }
  int connections() const { return static_cast<int>(conns_.size()); }
  const std::vector<std::string>& received() const { return received_; }
  // Sends bytes on the newest connection, unprompted.
  void Push(const std::string& bytes) {
    auto c = conns_.back();
    boost::asio::async_write(c->socket, boost::asio::buffer(*Keep(bytes)),
                             [c](boost::system::error_code, size_t) {});
  }

 private:
  struct Conn {
    explicit Conn(boost::asio::io_context& io) : socket(io) {}
    boost::asio::local::stream_protocol::socket socket;
    boost::asio::streambuf in;
    int number = 0;
  };

  std::shared_ptr<std::string> Keep(const std::string& bytes) {
    keep_.push_back(std::make_shared<std::string>(bytes));
    return keep_.back();
  }

  void Accept() {
    auto c = std::make_shared<Conn>(io_);
    acceptor_.async_accept(c->socket, [this, c](boost::system::error_code ec) {
      if (ec) return;
      c->number = static_cast<int>(conns_.size());
      conns_.push_back(c);
      ReadLine(c);
      Accept();
    });
  }

  void ReadLine(std::shared_ptr<Conn> c) {
    boost::asio::async_read_until(
        c->socket, c->in, "\r\n", [this, c](boost::system::error_code ec, size_t n) {
          if (ec) return;
          std::string line(boost::asio::buffers_begin(c->in.data()),
                           boost::asio::buffers_begin(c->in.data()) + n - 2);
          c->in.consume(n);
          received_.push_back(line);
          Answer a = script_(line, c->number);
          if (!a.bytes.empty()) {
            auto keep = Keep(a.bytes);
            boost::asio::async_write(c->socket, boost::asio::buffer(*keep),
                                     [c, close = a.close](boost::system::error_code, size_t) {
                                       boost::system::error_code ignored;
                                       if (close) c->socket.close(ignored);
                                     });
          } else if (a.close) {
            boost::system::error_code ignored;
            c->socket.close(ignored);
          }
          if (!a.close) ReadLine(c);
        });
  }

  boost::asio::io_context& io_;
  Script script_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::string dir_;
  std::string path_;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::vector<std::string> received_;
  std::vector<std::shared_ptr<std::string>> keep_;
};

}  // namespace qnet::tor::testing
