// QuotedString/CString decoding and the KEY=VALUE tokens of reply lines.
#include <fmt/format.h>

#include "qnet/tor/control_reply.h"

namespace qnet::tor {
namespace {

Error TokenError(std::string message) {
  return Error(Errc::kProtocol, fmt::format("control reply: {}", message));
}

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// Decodes one escape at text[i] (just after the backslash); advances i.
Status DecodeEscape(std::string_view text, size_t& i, std::string& out) {
  if (i >= text.size()) return TokenError("quoted string ends in a backslash");
  char c = text[i];
  switch (c) {
    case '\\':
    case '"':
    case '\'':
      out.push_back(c);
      ++i;
      return OkStatus();
    case 'n':
      out.push_back('\n');
      ++i;
      return OkStatus();
    case 't':
      out.push_back('\t');
      ++i;
      return OkStatus();
    case 'r':
      out.push_back('\r');
      ++i;
      return OkStatus();
    default:
      break;
  }
  if (!IsOctal(c))
    return TokenError(
        fmt::format("invalid escape '\\{}'", c >= 0x20 && c < 0x7f ? std::string(1, c) : "?"));
  unsigned value = 0;
  size_t digits = 0;
  while (digits < 3 && i < text.size() && IsOctal(text[i])) {
    value = value * 8 + static_cast<unsigned>(text[i] - '0');
    ++i;
    ++digits;
  }
  if (value > 0377) return TokenError("octal escape above \\377");
  out.push_back(static_cast<char>(value));
  return OkStatus();
}

// Decodes a quoted string starting at text[i] == '"'; i ends after the quote.
Result<std::string> DecodeQuoted(std::string_view text, size_t& i) {
  std::string out;
  ++i;  // opening quote
  while (i < text.size()) {
    char c = text[i];
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"') {
      ++i;
      return out;
    }
    if (u < 0x20 || u == 0x7f) return TokenError("control byte inside a quoted string");
    if (c == '\\') {
      ++i;
      QNET_TRY(DecodeEscape(text, i, out));
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return TokenError("quoted string without a closing quote");
}

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '/' || c == '.';
}

}  // namespace

Result<std::string> Unquote(std::string_view quoted) {
  if (quoted.empty() || quoted.front() != '"') return TokenError("expected a quoted string");
  size_t i = 0;
  QNET_ASSIGN_OR_RETURN(std::string out, DecodeQuoted(quoted, i));
  if (i != quoted.size()) return TokenError("text after a quoted string");
  return out;
}

Result<std::string> Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == '\0')
      return Fail(Errc::kInvalidArgument, "value contains CR, LF or NUL");
    if (c == '\\' || c == '"') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

Result<std::vector<Token>> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    Token token;
    size_t start = i;
    while (i < text.size() && IsKeyChar(text[i])) ++i;
    if (i < text.size() && text[i] == '=' && i > start) {
      token.key = std::string(text.substr(start, i - start));
      ++i;
    } else {
      i = start;
    }
    if (i < text.size() && text[i] == '"') {
      QNET_ASSIGN_OR_RETURN(token.value, DecodeQuoted(text, i));
      if (i < text.size() && text[i] != ' ') return TokenError("text after a quoted value");
    } else {
      size_t end = text.find(' ', i);
      if (end == std::string_view::npos) end = text.size();
      token.value = std::string(text.substr(i, end - i));
      i = end;
    }
    tokens.push_back(std::move(token));
  }
  return tokens;
}

const std::string* FindKey(const std::vector<Token>& tokens, std::string_view key) {
  for (const Token& t : tokens)
    if (t.key && *t.key == key) return &t.value;
  return nullptr;
}

}  // namespace qnet::tor
