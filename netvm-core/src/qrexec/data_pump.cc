// The full-duplex data channel of one call (session.h): one poll loop moves
// bytes between the channel and the local fds in both directions at once,
// with bounded queues in each direction.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <vector>

#include "deadline.h"
#include "qnet/qrexec/frame.h"
#include "qnet/qrexec/protocol.h"
#include "qnet/qrexec/session.h"

namespace qnet::qrexec {
namespace {

// Queue bound per direction: the point of back-pressure.
constexpr size_t kHighWater = 256 * 1024;
constexpr size_t kSocketReadSize = 256 * 1024;

// A writer to a pipe whose reader is gone gets SIGPIPE; block it on this
// thread while the pump runs (EPIPE is handled) and discard what is pending.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    blocked_ = pthread_sigmask(SIG_BLOCK, &set_, &old_) == 0;
  }
  ~ScopedSigpipeBlock() {
    if (!blocked_) return;
    if (!was_pending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&set_, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t set_;
  sigset_t old_;
  bool was_pending_ = false;
  bool blocked_ = false;
};

Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return Fail(ErrnoError("fcntl O_NONBLOCK", errno));
  }
  return OkStatus();
}

// A local fd whose bytes leave as frames of one type.
struct Source {
  UniqueFd fd;
  MsgType type;
};

// A local fd that frames of one type are written to; `eof` closes it once
// the queue is flushed. An empty fd drops the bytes.
struct Sink {
  UniqueFd fd;
  MsgType type;
  std::string queue;
  size_t offset = 0;
  bool eof = false;
  size_t queued() const { return queue.size() - offset; }
};

class Pump {
 public:
  Pump(UniqueFd channel, Route inbound, std::optional<std::chrono::milliseconds> timeout)
      : channel_(std::move(channel)), session_(inbound), deadline_(Deadline::After(timeout)) {}

  // An empty fd is an empty stream: only its EOF is sent.
  void AddSource(UniqueFd fd, MsgType type) {
    if (fd) {
      sources_.push_back({std::move(fd), type});
    } else {
      empty_sources_.push_back(type);
    }
  }
  void AddSink(UniqueFd fd, MsgType type) { sinks_.push_back({std::move(fd), type, {}, 0, false}); }

  Status Start() {
    QNET_TRY(SetNonBlocking(channel_.get()));
    // Room for a few queues' worth in flight means fewer wake-ups per byte;
    // the kernel caps it at net.core.wmem_max, and a failure only costs speed.
    int buffer = static_cast<int>(4 * kHighWater);
    (void)::setsockopt(channel_.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    for (Source& s : sources_) QNET_TRY(SetNonBlocking(s.fd.get()));
    for (Sink& s : sinks_) {
      if (s.fd) QNET_TRY(SetNonBlocking(s.fd.get()));
    }
    out_ = *EncodeFrame(MsgType::kHello, EncodeHello({kProtocolVersion}));
    for (MsgType type : empty_sources_) QueueFrame(type, "");
    return OkStatus();
  }

  // Runs until `done` says so after a step; `on_sources_done` runs once when
  // every source reached EOF.
  template <typename Done, typename SourcesDone>
  Status Run(Done done, SourcesDone on_sources_done) {
    bool sources_done_called = false;
    while (true) {
      FlushClosedSinks();
      if (!sources_done_called && AllSourcesClosed() && session_.version()) {
        sources_done_called = true;
        QNET_TRY(on_sources_done());
      }
      if (done()) return OkStatus();
      QNET_TRY(Step());
    }
  }

  void QueueFrame(MsgType type, std::string_view payload) { out_ += *EncodeFrame(type, payload); }
  bool OutFlushed() const { return out_.size() == out_offset_; }
  bool SinksFlushed() const {
    for (const Sink& s : sinks_) {
      if (s.queued() > 0) return false;
    }
    return true;
  }
  const SessionState& session() const { return session_; }
  bool channel_eof() const { return channel_eof_; }

 private:
  bool AllSourcesClosed() const {
    for (const Source& s : sources_) {
      if (s.fd) return false;
    }
    return true;
  }

  bool SinksHaveRoom() const {
    for (const Sink& s : sinks_) {
      if (s.queued() >= kHighWater) return false;
    }
    return true;
  }

  void FlushClosedSinks() {
    for (Sink& s : sinks_) {
      if (s.eof && s.queued() == 0) s.fd.reset();
    }
  }

  Status Step() {
    std::vector<pollfd> fds;
    bool read_channel = !channel_eof_ && SinksHaveRoom();
    short channel_events =
        static_cast<short>((read_channel ? POLLIN : 0) | (OutFlushed() ? 0 : POLLOUT));
    fds.push_back({channel_.get(), channel_events, 0});
    bool read_sources = session_.version() && out_.size() - out_offset_ < kHighWater;
    for (Source& s : sources_) fds.push_back({s.fd ? s.fd.get() : -1, POLLIN, 0});
    if (!read_sources) {
      for (size_t i = 1; i < fds.size(); ++i) fds[i].fd = -1;
    }
    for (Sink& s : sinks_) {
      fds.push_back({s.fd && s.queued() > 0 ? s.fd.get() : -1, POLLOUT, 0});
    }
    if (channel_events == 0 && (!read_sources || AllSourcesClosed()) && !SinksPending()) {
      return Fail(Errc::kUnavailable, "data channel: closed before the call ended");
    }
    std::optional<std::chrono::milliseconds> left = deadline_.Remaining();
    int n = ::poll(fds.data(), fds.size(), left ? static_cast<int>(left->count()) : -1);
    if (n < 0 && errno == EINTR) return OkStatus();
    if (n < 0) return Fail(ErrnoError("poll", errno));
    if (n == 0) return Fail(Errc::kTimeout, "data channel: call timed out");
    if (fds[0].revents & POLLOUT) QNET_TRY(WriteChannel());
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) QNET_TRY(ReadChannel());
    for (size_t i = 0; i < sources_.size(); ++i) {
      if (fds[1 + i].revents & (POLLIN | POLLHUP | POLLERR)) QNET_TRY(ReadSource(sources_[i]));
    }
    // Move what was just queued without another poll round: most of the
    // time the other side has room.
    for (Sink& sink : sinks_) {
      if (sink.fd && sink.queued() > 0) WriteSink(sink);
    }
    if (!OutFlushed()) QNET_TRY(WriteChannel());
    return OkStatus();
  }

  bool SinksPending() const {
    for (const Sink& s : sinks_) {
      if (s.fd && s.queued() > 0) return true;
    }
    return false;
  }

  Status WriteChannel() {
    ssize_t n = ::send(channel_.get(), out_.data() + out_offset_, out_.size() - out_offset_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return OkStatus();
      // A service may end without reading all its input (as in Qubes): the
      // requester stops sending and still reads what the service sent; the
      // exit code decides whether the call ended or broke.
      if ((errno == EPIPE || errno == ECONNRESET) && session_.inbound() == Route::kFromService) {
        out_.clear();
        out_offset_ = 0;
        for (Source& source : sources_) source.fd.reset();
        return OkStatus();
      }
      return Fail(ErrnoError("data channel: send", errno));
    }
    out_offset_ += static_cast<size_t>(n);
    if (out_offset_ == out_.size()) {
      out_.clear();
      out_offset_ = 0;
    } else if (out_offset_ > kHighWater) {
      out_.erase(0, out_offset_);
      out_offset_ = 0;
    }
    return OkStatus();
  }

  // Reads until the socket is empty or a sink's queue is full.
  Status ReadChannel() {
    read_buffer_.resize(kSocketReadSize);
    while (!channel_eof_ && SinksHaveRoom()) {
      ssize_t n = ::recv(channel_.get(), read_buffer_.data(), read_buffer_.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return OkStatus();
      // A peer that closes with our bytes unread resets the socket, after
      // everything it sent has been read: an end like EOF.
      if (n < 0 && errno != ECONNRESET) return Fail(ErrnoError("data channel: recv", errno));
      if (n <= 0) {
        channel_eof_ = true;
        QNET_TRY(decoder_.Finish());
        if (!session_.finished()) {
          return Fail(Errc::kUnavailable,
                      "data channel: the peer closed it before the end of the call");
        }
        return OkStatus();
      }
      decoder_.Feed(std::string_view(read_buffer_.data(), static_cast<size_t>(n)));
      QNET_TRY(DispatchFrames());
    }
    return OkStatus();
  }

  Status DispatchFrames() {
    while (true) {
      QNET_ASSIGN_OR_RETURN(std::optional<Frame> frame, decoder_.Next());
      if (!frame) return OkStatus();
      if (Status s = session_.OnFrame(*frame); !s) return s.error().Wrap("data channel");
      for (Sink& sink : sinks_) {
        if (sink.type != frame->type) continue;
        if (frame->payload.empty()) {
          sink.eof = true;
        } else if (sink.fd && sink.queued() == 0) {
          sink.queue = std::move(frame->payload);
          sink.offset = 0;
        } else if (sink.fd) {
          sink.queue += frame->payload;
        }
      }
    }
  }

  // Reads chunks straight into the outgoing queue, behind their header,
  // until the source is empty or the queue is full.
  Status ReadSource(Source& source) {
    size_t chunk = MaxDataChunk(*session_.version());
    while (source.fd && out_.size() - out_offset_ < kHighWater) {
      size_t at = out_.size();
      out_.resize(at + kHeaderSize + chunk);
      ssize_t n = ::read(source.fd.get(), out_.data() + at + kHeaderSize, chunk);
      if (n < 0) {
        int err = errno;
        out_.resize(at);
        if (err == EAGAIN || err == EINTR) return OkStatus();
        return Fail(ErrnoError(fmt::format("read for {}", MsgTypeName(source.type)), err));
      }
      std::string header = EncodeHeader({source.type, static_cast<uint32_t>(n)});
      out_.replace(at, kHeaderSize, header);
      out_.resize(at + kHeaderSize + static_cast<size_t>(n));
      if (n == 0) source.fd.reset();  // its EOF is queued
    }
    return OkStatus();
  }

  // A sink whose reader went away drops the rest of its stream, as Qubes'
  // client does when its stdout is closed.
  static void WriteSink(Sink& sink) {
    ssize_t n = ::write(sink.fd.get(), sink.queue.data() + sink.offset, sink.queued());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      sink.fd.reset();
      sink.queue.clear();
      sink.offset = 0;
      return;
    }
    sink.offset += static_cast<size_t>(n);
    if (sink.offset == sink.queue.size()) {
      sink.queue.clear();
      sink.offset = 0;
    } else if (sink.offset > kHighWater) {
      sink.queue.erase(0, sink.offset);
      sink.offset = 0;
    }
  }

  UniqueFd channel_;
  SessionState session_;
  Deadline deadline_;
  FrameDecoder decoder_;
  std::vector<Source> sources_;
  std::vector<MsgType> empty_sources_;
  std::vector<Sink> sinks_;
  std::string out_;
  size_t out_offset_ = 0;
  std::string read_buffer_;
  bool channel_eof_ = false;
};

}  // namespace

Result<int32_t> RunRequester(UniqueFd channel, UniqueFd input, UniqueFd output, UniqueFd errors,
                             std::optional<std::chrono::milliseconds> timeout) {
  ScopedSigpipeBlock no_sigpipe;
  Pump pump(std::move(channel), Route::kFromService, timeout);
  pump.AddSource(std::move(input), MsgType::kDataStdin);
  pump.AddSink(std::move(output), MsgType::kDataStdout);
  pump.AddSink(std::move(errors), MsgType::kDataStderr);
  QNET_TRY(pump.Start());
  Status s = pump.Run([&] { return pump.session().finished() && pump.SinksFlushed(); },
                      [] { return OkStatus(); });
  if (!s) return s.error();
  return *pump.session().exit_code();
}

Status RunService(UniqueFd channel, UniqueFd stdin_sink, UniqueFd stdout_source,
                  UniqueFd stderr_source, const std::function<int32_t()>& wait_exit,
                  std::optional<std::chrono::milliseconds> timeout) {
  ScopedSigpipeBlock no_sigpipe;
  Pump pump(std::move(channel), Route::kToService, timeout);
  pump.AddSource(std::move(stdout_source), MsgType::kDataStdout);
  pump.AddSource(std::move(stderr_source), MsgType::kDataStderr);
  pump.AddSink(std::move(stdin_sink), MsgType::kDataStdin);
  QNET_TRY(pump.Start());
  bool exit_queued = false;
  return pump.Run([&] { return exit_queued && pump.OutFlushed(); },
                  [&]() -> Status {
                    pump.QueueFrame(MsgType::kDataExitCode, EncodeExitCode(wait_exit()));
                    exit_queued = true;
                    return OkStatus();
                  });
}

}  // namespace qnet::qrexec
