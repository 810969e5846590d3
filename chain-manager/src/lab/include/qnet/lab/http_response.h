// The lab web server's HTTP/1.1 logic as pure functions: find the end of a
// request head, check its request line, build the reply. Every 200 reply's
// body is the client's source address and "\n"; every reply closes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "qnet/base/result.h"

namespace qnet::lab {

inline constexpr size_t kMaxRequestHead = 16 * 1024;

// Offset just past the blank line ending the request head ("\r\n\r\n", or
// "\n\n" from lenient clients), or nullopt if it has not arrived yet.
std::optional<size_t> FindHeadEnd(std::string_view data);

struct RequestLine {
  std::string method;
  std::string target;
  std::string version;
};

// Parses "METHOD SP TARGET SP HTTP/x.y" from the first line of head.
// kProtocol when it has another shape.
Result<RequestLine> ParseRequestLine(std::string_view head);

// A complete response: status line, Content-Type text/plain, Content-Length
// of body, Connection: close. With include_body false (HEAD) the headers
// still announce the body's length.
std::string BuildHttpResponse(int status, std::string_view body, bool include_body = true);

// The reply to a complete request head from a client whose address reads
// source_text: 200 with body source_text + "\n" for any method and target
// (no body for HEAD), 400 for a malformed request line.
std::string ReplyForRequest(std::string_view head, std::string_view source_text);

// The reply when a head exceeds kMaxRequestHead.
std::string ReplyForOversizeHead();

}  // namespace qnet::lab
