// Tor control-port replies: the pure, incremental parser and the tokens of
// a reply line (control-spec "Replies" and "General-use tokens").
//
// A reply is one or more lines with the same 3-digit status code:
//   250-key=value          mid line       (LineKind::kMid)
//   250+key=               data line: the body follows, one line each,
//   body...                dot-stuffed (a body line starting with "." has
//   .                      one more "." in front), ended by a line "."
//   250 OK                 end line: the reply is complete
// Code 650 marks an asynchronous event; any other code answers a command.
//
// ReplyParser takes the byte stream in any split and yields whole replies.
// It trusts nothing: a line over the limit, a code that is not 3 digits
// 2xx/4xx/5xx/6xx, a code changing inside a reply, a bad separator, a bare
// CR or LF, a NUL or other control byte, or a reply over its byte or line
// budget is an Error (kProtocol) and the parser stays failed: the caller
// closes the connection. Finish() reports a stream that ended mid-reply
// (an unterminated data body included). Not synchronised; one per
// connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"

namespace qnet::tor {

// Explicit budgets; defaults are far above what tor sends qnet (a full
// GETINFO ns/all is larger, and qnet never asks for it).
struct ReplyLimits {
  size_t max_line = 16 * 1024;               // bytes of one line, CRLF excluded
  size_t max_reply_bytes = 4 * 1024 * 1024;  // text + data bytes of one reply
  size_t max_lines = 64 * 1024;              // lines of one reply, data lines included
};

enum class LineKind : uint8_t { kMid, kData, kEnd };

struct ReplyLine {
  LineKind kind = LineKind::kEnd;
  std::string text;  // after the separator: "version=0.4.9.11", "OK"
  std::string data;  // kData only: the body, unstuffed, lines joined by "\n"
  bool operator==(const ReplyLine&) const = default;
};

struct Reply {
  int code = 0;
  std::vector<ReplyLine> lines;  // the last one is kEnd

  bool IsEvent() const { return code == 650; }
  bool IsOk() const { return code >= 200 && code < 300; }
  // The end line's text ("OK", "Unrecognized key ...").
  const std::string& EndText() const;
  // "552 Unrecognized key \"x\"" for error messages.
  std::string Summary() const;
  bool operator==(const Reply&) const = default;
};

class ReplyParser {
 public:
  explicit ReplyParser(ReplyLimits limits = {}) : limits_(limits) {}

  // Consumes bytes; complete replies become available from Next(). After
  // an error every later call returns that error again.
  Status Feed(std::string_view bytes);
  // The oldest complete reply not yet taken.
  std::optional<Reply> Next();
  // The stream ended: an error if a reply (or a partial line) is pending.
  Status Finish() const;

 private:
  Status Line(std::string_view line);
  Status StartOrContinue(std::string_view line);
  Status Fail(std::string message);

  ReplyLimits limits_;
  std::string partial_;  // bytes of an unfinished line
  std::optional<Reply> current_;
  bool in_data_ = false;
  bool data_started_ = false;  // the data body has a first line already
  size_t reply_bytes_ = 0;
  size_t reply_lines_ = 0;
  std::deque<Reply> ready_;
  std::optional<Error> error_;
};

// ---- Tokens of a line ----

// Decodes a QuotedString/CString (with its quotes). Escapes: \\ \" \'
// \n \t \r and octal \0 .. \377 (1-3 digits); any other escape, a raw
// control byte, a missing closing quote or text after it is an error.
Result<std::string> Unquote(std::string_view quoted);

// Quotes text for a command argument: \ and " escaped. Refuses CR, LF and
// NUL (kInvalidArgument): a value can never end the command line.
Result<std::string> Quote(std::string_view text);

// One space-separated token: KEY=VALUE (value unquoted if it was quoted)
// or a positional word.
struct Token {
  std::optional<std::string> key;
  std::string value;
  bool operator==(const Token&) const = default;
};

// Splits "CIRC 5 BUILT $AB~relay PURPOSE=GENERAL REASON=\"x y\"" into
// tokens. A quoted value may hold spaces; a bad quoted value is an error.
Result<std::vector<Token>> Tokenize(std::string_view text);

// Helpers over a token list.
const std::string* FindKey(const std::vector<Token>& tokens, std::string_view key);

}  // namespace qnet::tor
