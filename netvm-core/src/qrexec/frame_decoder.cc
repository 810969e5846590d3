#include <fmt/format.h>

#include "qnet/qrexec/frame.h"

namespace qnet::qrexec {
namespace {

// Compacting on every frame would make a stream of small frames quadratic;
// dropping the consumed prefix once it dominates keeps it linear.
constexpr size_t kCompactThreshold = 64 * 1024;

}  // namespace

void FrameDecoder::Feed(std::string_view bytes) {
  if (error_) return;
  if (offset_ > kCompactThreshold && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(bytes);
}

Status FrameDecoder::ParsePendingHeader() {
  if (header_ || buffer_.size() - offset_ < kHeaderSize) return OkStatus();
  Result<Header> header = DecodeHeader(std::string_view(buffer_).substr(offset_));
  if (!header) {
    error_ = header.error();
    return *error_;
  }
  header_ = *header;
  offset_ += kHeaderSize;
  return OkStatus();
}

Result<std::optional<Frame>> FrameDecoder::Next() {
  if (error_) return *error_;
  QNET_TRY(ParsePendingHeader());
  if (!header_ || buffer_.size() - offset_ < header_->len) return std::optional<Frame>();
  Frame frame{header_->type, buffer_.substr(offset_, header_->len)};
  offset_ += header_->len;
  header_.reset();
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  return std::optional<Frame>(std::move(frame));
}

Status FrameDecoder::Finish() const {
  if (error_) return *error_;
  size_t have = buffer_.size() - offset_;
  if (header_) {
    if (have < header_->len) {
      return Fail(Errc::kProtocol, fmt::format("truncated {}: payload has {} of {} bytes",
                                               MsgTypeName(header_->type), have, header_->len));
    }
    return OkStatus();
  }
  if (have >= kHeaderSize) {
    return Fail(Errc::kFailedPrecondition, "FrameDecoder::Finish: frames still unread");
  }
  if (have > 0) {
    return Fail(Errc::kProtocol,
                fmt::format("truncated message: header has {} of {} bytes", have, kHeaderSize));
  }
  return OkStatus();
}

size_t FrameDecoder::BytesWanted() const {
  if (error_) return 0;
  size_t have = buffer_.size() - offset_;
  if (!header_) {
    // A complete header not yet parsed: Next() must look at it first.
    return have >= kHeaderSize ? 0 : kHeaderSize - have;
  }
  return have >= header_->len ? 0 : header_->len - have;
}

bool FrameDecoder::AtFrameBoundary() const { return !header_ && buffer_.size() == offset_; }

}  // namespace qnet::qrexec
