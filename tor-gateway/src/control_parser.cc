#include <fmt/format.h>

#include "qnet/tor/control_reply.h"

namespace qnet::tor {
namespace {

// Printable for error messages: never echo hostile bytes raw into a log.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f)
      out.push_back(c);
    else
      out += fmt::format("\\x{:02x}", u);
  }
  if (text.size() > 40) out += "...";
  return out;
}

bool ValidCodeStart(char c) { return c == '2' || c == '4' || c == '5' || c == '6'; }
bool Digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

const std::string& Reply::EndText() const {
  static const std::string kEmpty;
  return lines.empty() ? kEmpty : lines.back().text;
}

std::string Reply::Summary() const { return fmt::format("{} {}", code, Printable(EndText())); }

Status ReplyParser::Fail(std::string message) {
  error_ = Error(Errc::kProtocol, fmt::format("control reply: {}", message));
  return *error_;
}

Status ReplyParser::Feed(std::string_view bytes) {
  if (error_) return *error_;
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view chunk = bytes.substr(0, nl == std::string_view::npos ? bytes.size() : nl);
    if (partial_.size() + chunk.size() > limits_.max_line + 1)  // +1: the CR
      return Fail(fmt::format("line longer than {} bytes", limits_.max_line));
    partial_.append(chunk);
    if (nl == std::string_view::npos) break;
    bytes.remove_prefix(nl + 1);
    if (partial_.empty() || partial_.back() != '\r') return Fail("line ends in LF without CR");
    partial_.pop_back();
    std::string line = std::move(partial_);
    partial_.clear();
    QNET_TRY(Line(line));
  }
  return OkStatus();
}

Status ReplyParser::Line(std::string_view line) {
  for (char c : line) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f)
      return Fail(fmt::format("control byte 0x{:02x} in line '{}'", u, Printable(line)));
  }
  if (++reply_lines_ > limits_.max_lines)
    return Fail(fmt::format("reply longer than {} lines", limits_.max_lines));
  reply_bytes_ += line.size();
  if (reply_bytes_ > limits_.max_reply_bytes)
    return Fail(fmt::format("reply larger than {} bytes", limits_.max_reply_bytes));
  if (in_data_) {
    ReplyLine& data_line = current_->lines.back();
    if (line == ".") {
      in_data_ = false;
      return OkStatus();
    }
    if (line.starts_with('.')) line.remove_prefix(1);  // dot-stuffing
    if (data_started_) data_line.data.push_back('\n');
    data_started_ = true;
    data_line.data.append(line);
    return OkStatus();
  }
  return StartOrContinue(line);
}

Status ReplyParser::StartOrContinue(std::string_view line) {
  if (line.size() < 4 || !ValidCodeStart(line[0]) || !Digit(line[1]) || !Digit(line[2]))
    return Fail(fmt::format("bad status line '{}'", Printable(line)));
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  LineKind kind;
  switch (line[3]) {
    case '-':
      kind = LineKind::kMid;
      break;
    case '+':
      kind = LineKind::kData;
      break;
    case ' ':
      kind = LineKind::kEnd;
      break;
    default:
      return Fail(fmt::format("bad separator in '{}'", Printable(line)));
  }
  if (!current_) {
    current_ = Reply{code, {}};
  } else if (current_->code != code) {
    return Fail(
        fmt::format("status code changed from {} to {} inside a reply", current_->code, code));
  }
  current_->lines.push_back(ReplyLine{kind, std::string(line.substr(4)), {}});
  if (kind == LineKind::kData) {
    in_data_ = true;
    data_started_ = false;
  } else if (kind == LineKind::kEnd) {
    ready_.push_back(std::move(*current_));
    current_.reset();
    reply_bytes_ = 0;
    reply_lines_ = 0;
  }
  return OkStatus();
}

std::optional<Reply> ReplyParser::Next() {
  if (ready_.empty()) return std::nullopt;
  Reply r = std::move(ready_.front());
  ready_.pop_front();
  return r;
}

Status ReplyParser::Finish() const {
  if (error_) return *error_;
  if (in_data_) return Error(Errc::kProtocol, "control reply: stream ended inside a data body");
  if (current_ || !partial_.empty())
    return Error(Errc::kProtocol, "control reply: stream ended inside a reply");
  return OkStatus();
}

}  // namespace qnet::tor
