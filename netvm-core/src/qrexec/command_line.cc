#include "qnet/qrexec/command_line.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>

namespace qnet::qrexec {
namespace {

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiAlnum(char c) { return IsAsciiAlpha(c) || (c >= '0' && c <= '9'); }

// Qubes' RPCNAME_ALLOWED_CHARSET without '+', which would split the argument.
bool IsServiceChar(char c) { return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '-'; }
// RPCNAME_ALLOWED_CHARSET: an argument may itself contain '+'.
bool IsArgumentChar(char c) { return IsServiceChar(c) || c == '+'; }
bool IsNameChar(char c) { return IsAsciiAlnum(c) || c == '_' || c == '.' || c == '-'; }
bool AnyChar(char) { return true; }
bool NotDash(char c) { return c != '-'; }

// One row per validated field: the rules differ only in data.
struct NameRule {
  const char* what;
  size_t min_len;
  size_t max_len;
  bool (*allowed)(char);
  bool (*first_allowed)(char);
  const char* first_rule;  // what the first character must do, for the error
};

constexpr NameRule kServiceRule{.what = "service name",
                                .min_len = 1,
                                .max_len = kMaxServiceNameLen,
                                .allowed = IsServiceChar,
                                .first_allowed = AnyChar,
                                .first_rule = ""};
constexpr NameRule kQubeRule{.what = "source qube name",
                             .min_len = 1,
                             .max_len = kMaxQubeNameLen,
                             .allowed = IsNameChar,
                             .first_allowed = IsAsciiAlpha,
                             .first_rule = "start with a letter"};
constexpr NameRule kUserRule{.what = "user name",
                             .min_len = 1,
                             .max_len = kMaxUserNameLen,
                             .allowed = IsNameChar,
                             .first_allowed = NotDash,
                             .first_rule = "not start with '-'"};

std::string Printable(char c) {
  auto u = static_cast<unsigned char>(c);
  if (std::isprint(u) && c != '\'') return fmt::format("'{}'", c);
  return fmt::format("\\x{:02x}", u);
}

// Quotes a value for an error message, shortened and with unprintables escaped.
std::string Quote(std::string_view value) {
  constexpr size_t kShown = 64;
  std::string out = "'";
  for (char c : value.substr(0, kShown)) {
    auto u = static_cast<unsigned char>(c);
    out += (std::isprint(u) && c != '\'') ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }
  out += value.size() > kShown ? "'..." : "'";
  return out;
}

std::optional<size_t> FirstInvalid(std::string_view value, bool (*allowed)(char)) {
  for (size_t i = 0; i < value.size(); ++i) {
    if (!allowed(value[i])) return i;
  }
  return std::nullopt;
}

Status CheckName(const NameRule& rule, std::string_view value) {
  if (value.size() < rule.min_len)
    return Fail(Errc::kInvalidArgument, fmt::format("empty {}", rule.what));
  if (value.size() > rule.max_len) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("{} {} is {} bytes long, the limit is {}", rule.what, Quote(value),
                            value.size(), rule.max_len));
  }
  if (!rule.first_allowed(value[0])) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("{} {} must {}", rule.what, Quote(value), rule.first_rule));
  }
  if (auto bad = FirstInvalid(value, rule.allowed)) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("{} {} has invalid character {} at offset {}", rule.what, Quote(value),
                            Printable(value[*bad]), *bad));
  }
  return OkStatus();
}

Error CmdlineError(const Error& e) { return e.Wrap("cmdline"); }

Error CmdlineError(std::string message) {
  return Error(Errc::kInvalidArgument, "cmdline: " + std::move(message));
}

}  // namespace

std::string ServiceDescriptor(std::string_view service, std::string_view arg) {
  std::string out(service);
  if (!arg.empty()) {
    out += '+';
    out += arg;
  }
  return out;
}

Status ValidateServiceName(std::string_view service) { return CheckName(kServiceRule, service); }

Status ValidateServiceArgument(std::string_view service, std::string_view arg) {
  if (auto bad = FirstInvalid(arg, IsArgumentChar)) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("service argument {} has invalid character {} at offset {}", Quote(arg),
                            Printable(arg[*bad]), *bad));
  }
  size_t descriptor_len = service.size() + 1 + arg.size();
  if (descriptor_len > kMaxServiceDescriptorLen) {
    return Fail(Errc::kInvalidArgument,
                fmt::format("service descriptor is {} bytes long, the limit is {}", descriptor_len,
                            kMaxServiceDescriptorLen));
  }
  return OkStatus();
}

Status ValidateQubeName(std::string_view qube) { return CheckName(kQubeRule, qube); }

Status ValidateUserName(std::string_view user) { return CheckName(kUserRule, user); }

Result<RpcCommand> ParseRpcCommandLine(std::string_view cmdline) {
  RpcCommand command;
  size_t colon = cmdline.find(':');
  if (colon == std::string_view::npos) return CmdlineError("no ':' after the user name");
  command.user = std::string(cmdline.substr(0, colon));
  if (Status s = ValidateUserName(command.user); !s) return CmdlineError(s.error());

  std::string_view rest = cmdline.substr(colon + 1);
  if (rest.starts_with(kNoguiPrefix)) {
    command.nogui = true;
    rest.remove_prefix(kNoguiPrefix.size());
  }
  if (!rest.starts_with(kRpcRequestCommand) || rest.size() == kRpcRequestCommand.size() ||
      rest[kRpcRequestCommand.size()] != ' ') {
    return CmdlineError(fmt::format(
        "not a QUBESRPC service call (expected 'QUBESRPC ' after the user, got {})", Quote(rest)));
  }
  rest.remove_prefix(kRpcRequestCommand.size() + 1);

  size_t space = rest.find(' ');
  if (space == std::string_view::npos) {
    return CmdlineError("no space after the service descriptor (source qube missing)");
  }
  std::string_view descriptor = rest.substr(0, space);
  if (descriptor.size() > kMaxServiceDescriptorLen) {
    return CmdlineError(fmt::format("service descriptor is {} bytes long, the limit is {}",
                                    descriptor.size(), kMaxServiceDescriptorLen));
  }
  size_t plus = descriptor.find('+');
  std::string_view service = descriptor.substr(0, plus);
  std::string_view arg =
      plus == std::string_view::npos ? std::string_view() : descriptor.substr(plus + 1);
  if (Status s = ValidateServiceName(service); !s) return CmdlineError(s.error());
  if (Status s = ValidateServiceArgument(service, arg); !s) return CmdlineError(s.error());
  command.service = std::string(service);
  command.arg = std::string(arg);

  std::string_view source = rest.substr(space + 1);
  if (size_t extra = source.find(' '); extra != std::string_view::npos) {
    return CmdlineError(
        fmt::format("unexpected text after the source qube: {}", Quote(source.substr(extra))));
  }
  if (Status s = ValidateQubeName(source); !s) return CmdlineError(s.error());
  command.source = std::string(source);
  return command;
}

Result<std::string> FormatRpcCommandLine(const RpcCommand& command) {
  QNET_TRY(ValidateUserName(command.user));
  QNET_TRY(ValidateServiceName(command.service));
  QNET_TRY(ValidateServiceArgument(command.service, command.arg));
  QNET_TRY(ValidateQubeName(command.source));
  return fmt::format("{}:{}{} {} {}", command.user, command.nogui ? kNoguiPrefix : "",
                     kRpcRequestCommand, ServiceDescriptor(command.service, command.arg),
                     command.source);
}

}  // namespace qnet::qrexec
