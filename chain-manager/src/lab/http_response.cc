#include "qnet/lab/http_response.h"

#include <fmt/format.h>

namespace qnet::lab {
namespace {

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Unknown";
  }
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return false;
  }
  return true;
}

}  // namespace

std::optional<size_t> FindHeadEnd(std::string_view data) {
  size_t crlf = data.find("\r\n\r\n");
  size_t lf = data.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::nullopt;
  if (lf == std::string_view::npos || (crlf != std::string_view::npos && crlf < lf))
    return crlf + 4;
  return lf + 2;
}

Result<RequestLine> ParseRequestLine(std::string_view head) {
  std::string_view line = head.substr(0, head.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos)
    return Fail(Errc::kProtocol, "request line is not 'METHOD TARGET VERSION'");
  RequestLine r{std::string(line.substr(0, sp1)), std::string(line.substr(sp1 + 1, sp2 - sp1 - 1)),
                std::string(line.substr(sp2 + 1))};
  if (!IsToken(r.method) || !IsToken(r.target) || !IsToken(r.version) ||
      !r.version.starts_with("HTTP/"))
    return Fail(Errc::kProtocol, "request line is not 'METHOD TARGET VERSION'");
  return r;
}

std::string BuildHttpResponse(int status, std::string_view body, bool include_body) {
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      status, ReasonPhrase(status), body.size(), include_body ? body : std::string_view());
}

std::string ReplyForRequest(std::string_view head, std::string_view source_text) {
  auto line = ParseRequestLine(head);
  if (!line) return BuildHttpResponse(400, "bad request line\n");
  return BuildHttpResponse(200, fmt::format("{}\n", source_text), line->method != "HEAD");
}

std::string ReplyForOversizeHead() { return BuildHttpResponse(431, "request header too large\n"); }

}  // namespace qnet::lab
