// Parses Qubes' policy format into PolicyRules (policy.h). Every error names
// FILE:LINE and what is wrong; nothing is half-parsed.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "policy_tokens.h"
#include "qnet/qrexec/command_line.h"
#include "qnet/qrexec/policy.h"

namespace qnet::qrexec {
namespace {

// Deeper nesting is a loop or a mistake; Qubes has no limit, but an include
// cycle must end in an error, not a stack overflow.
constexpr int kMaxIncludeDepth = 16;

std::vector<std::string_view> SplitWords(std::string_view line) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    size_t end = pos;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
    if (end > pos) words.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return words;
}

std::string Join(const std::string& dir, std::string_view path) {
  if (!path.empty() && path.front() == '/') return std::string(path);
  if (dir.empty()) return std::string(path);
  return dir + "/" + std::string(path);
}

Result<bool> ParseBool(std::string_view key, std::string_view value) {
  if (value == "yes") return true;
  if (value == "no") return false;
  return Error(Errc::kInvalidArgument, fmt::format("{}={}: expected yes or no", key, value));
}

// One parameter row: the actions it is valid for and how it is stored.
struct ParamRow {
  std::string_view key;
  bool allow;
  bool deny;
  bool ask;
  Status (*apply)(PolicyRule& rule, std::string_view value);
};

Status ApplyTarget(PolicyRule& rule, std::string_view value) {
  QNET_TRY(internal::ValidateRedirectToken("target", value));
  rule.redirect = internal::NormalizeToken(value);
  return OkStatus();
}
Status ApplyDefaultTarget(PolicyRule& rule, std::string_view value) {
  QNET_TRY(internal::ValidateRedirectToken("default_target", value));
  rule.default_target = internal::NormalizeToken(value);
  return OkStatus();
}
Status ApplyUser(PolicyRule& rule, std::string_view value) {
  if (Status s = ValidateUserName(value); !s) {
    return Fail(Errc::kInvalidArgument, fmt::format("user={}: not a valid user name", value));
  }
  rule.user = std::string(value);
  return OkStatus();
}
Status ApplyAutostart(PolicyRule& rule, std::string_view value) {
  QNET_ASSIGN_OR_RETURN(rule.autostart, ParseBool("autostart", value));
  return OkStatus();
}
Status ApplyNotify(PolicyRule& rule, std::string_view value) {
  QNET_ASSIGN_OR_RETURN(rule.notify, ParseBool("notify", value));
  return OkStatus();
}

constexpr ParamRow kParams[] = {
    {"target", true, false, true, ApplyTarget},
    {"default_target", false, false, true, ApplyDefaultTarget},
    {"user", true, false, true, ApplyUser},
    {"autostart", true, false, true, ApplyAutostart},
    {"notify", true, true, true, ApplyNotify},
};

Status ApplyParam(PolicyRule& rule, std::string_view param) {
  size_t eq = param.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Fail(Errc::kInvalidArgument, fmt::format("'{}': expected PARAM=VALUE", param));
  }
  std::string_view key = param.substr(0, eq);
  std::string_view value = param.substr(eq + 1);
  for (const ParamRow& row : kParams) {
    if (row.key != key) continue;
    bool valid = (rule.action == PolicyAction::kAllow && row.allow) ||
                 (rule.action == PolicyAction::kDeny && row.deny) ||
                 (rule.action == PolicyAction::kAsk && row.ask);
    if (!valid) {
      return Fail(Errc::kInvalidArgument,
                  fmt::format("{}= is not valid for {}", key, PolicyActionName(rule.action)));
    }
    return row.apply(rule, value);
  }
  return Fail(Errc::kInvalidArgument, fmt::format("unknown parameter '{}'", key));
}

// "allow" or Qubes 4.0's "allow,target=dom0"; then any PARAM=VALUE words.
Status ParseAction(PolicyRule& rule, std::string_view action,
                   const std::vector<std::string_view>& params) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    size_t comma = action.find(',', pos);
    parts.push_back(action.substr(pos, comma - pos));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  if (parts[0] == "allow") {
    rule.action = PolicyAction::kAllow;
  } else if (parts[0] == "deny") {
    rule.action = PolicyAction::kDeny;
  } else if (parts[0] == "ask") {
    rule.action = PolicyAction::kAsk;
  } else {
    return Fail(Errc::kInvalidArgument,
                fmt::format("action '{}': expected allow, deny or ask", parts[0]));
  }
  for (size_t i = 1; i < parts.size(); ++i) QNET_TRY(ApplyParam(rule, parts[i]));
  for (std::string_view param : params) QNET_TRY(ApplyParam(rule, param));
  return OkStatus();
}

Status ParseService(PolicyRule& rule, std::string_view service, std::string_view argument) {
  if (service != "*") {
    if (Status s = ValidateServiceName(service); !s) return s;
  }
  rule.service = std::string(service);
  if (argument == "*") {
    rule.argument.reset();
    return OkStatus();
  }
  if (service == "*") {
    return Fail(Errc::kInvalidArgument, "a '*' service takes only a '*' argument");
  }
  if (argument.empty() || argument.front() != '+') {
    return Fail(Errc::kInvalidArgument,
                fmt::format("argument '{}': expected '*', '+' or '+ARG'", argument));
  }
  argument.remove_prefix(1);
  if (Status s = ValidateServiceArgument(service, argument); !s) return s;
  rule.argument = std::string(argument);
  return OkStatus();
}

}  // namespace

// Builds a Policy file by file; a friend of Policy.
class PolicyParser {
 public:
  PolicyParser(const PolicySource& source, std::string base_dir)
      : source_(source), base_dir_(std::move(base_dir)) {}

  Status ParseText(std::string_view text, const std::string& file, int depth) {
    int line_no = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      std::vector<std::string_view> words = SplitWords(line);
      if (words.empty() || words[0].front() == '#') continue;
      PolicyLocation where{file, line_no};
      if (Status s = ParseLine(words, where, depth); !s) {
        if (s.error().code() != Errc::kInvalidArgument || located_) return s;
        located_ = true;
        return Fail(Errc::kInvalidArgument,
                    fmt::format("{}: {}", FormatLocation(where), s.error().message()));
      }
    }
    return OkStatus();
  }

  Policy Take() {
    Policy policy;
    policy.rules_ = std::move(rules_);
    return policy;
  }

 private:
  Status ParseLine(const std::vector<std::string_view>& w, const PolicyLocation& where, int depth) {
    if (w[0].front() == '!') return ParseDirective(w, depth);
    if (w.size() < 5) {
      return Fail(
          Errc::kInvalidArgument,
          fmt::format("{} fields, a rule has SERVICE ARGUMENT SOURCE TARGET ACTION", w.size()));
    }
    PolicyRule rule;
    rule.location = where;
    QNET_TRY(ParseService(rule, w[0], w[1]));
    return FinishRule(rule, w, 2);
  }

  // SOURCE TARGET ACTION [PARAM=VALUE...] from word `first` on.
  Status FinishRule(PolicyRule& rule, const std::vector<std::string_view>& w, size_t first) {
    QNET_TRY(internal::ValidateSourceToken(w[first]));
    QNET_TRY(internal::ValidateTargetToken(w[first + 1]));
    rule.source = internal::NormalizeToken(w[first]);
    rule.target = internal::NormalizeToken(w[first + 1]);
    std::vector<std::string_view> params(w.begin() + static_cast<std::ptrdiff_t>(first) + 3,
                                         w.end());
    QNET_TRY(ParseAction(rule, w[first + 2], params));
    rules_.push_back(std::move(rule));
    return OkStatus();
  }

  Status ParseDirective(const std::vector<std::string_view>& w, int depth) {
    auto arity = [&](size_t n) -> Status {
      if (w.size() == n) return OkStatus();
      return Fail(Errc::kInvalidArgument,
                  fmt::format("{} takes {} argument(s), got {}", w[0], n - 1, w.size() - 1));
    };
    if (w[0] == "!compat-4.0") return arity(1);
    if (depth >= kMaxIncludeDepth) {
      return Fail(Errc::kInvalidArgument,
                  fmt::format("{}: includes nested deeper than {}", w[0], kMaxIncludeDepth));
    }
    if (w[0] == "!include") {
      QNET_TRY(arity(2));
      return IncludeFile(Join(base_dir_, w[1]), depth + 1);
    }
    if (w[0] == "!include-dir") {
      QNET_TRY(arity(2));
      return IncludeDir(Join(base_dir_, w[1]), depth + 1);
    }
    if (w[0] == "!include-service") {
      QNET_TRY(arity(4));
      PolicyRule pattern;
      QNET_TRY(ParseService(pattern, w[1], w[2]));
      return IncludeService(pattern, Join(base_dir_, w[3]));
    }
    return Fail(Errc::kInvalidArgument, fmt::format("unknown directive '{}'", w[0]));
  }

  Status IncludeFile(const std::string& path, int depth) {
    Result<std::string> text = source_.ReadFile(path);
    if (!text)
      return Fail(Errc::kInvalidArgument, fmt::format("!include: {}", text.error().message()));
    return ParseText(*text, path, depth);
  }

 public:
  Status IncludeDir(const std::string& dir, int depth) {
    Result<std::vector<std::string>> names = source_.ListDir(dir);
    if (!names) {
      return Fail(Errc::kInvalidArgument, fmt::format("!include-dir: {}", names.error().message()));
    }
    std::vector<std::string> files;
    for (const std::string& name : *names) {
      if (name.size() > 7 && name.front() != '.' && name.ends_with(".policy")) {
        files.push_back(name);
      }
    }
    // std::string compares bytes as unsigned char: the C locale's order.
    std::sort(files.begin(), files.end());
    for (const std::string& name : files) QNET_TRY(IncludeFile(dir + "/" + name, depth));
    return OkStatus();
  }

 private:
  // Qubes 4.0's per-service format: SOURCE TARGET ACTION[,PARAM=VALUE...].
  Status IncludeService(const PolicyRule& pattern, const std::string& path) {
    Result<std::string> text = source_.ReadFile(path);
    if (!text) {
      return Fail(Errc::kInvalidArgument,
                  fmt::format("!include-service: {}", text.error().message()));
    }
    int line_no = 0;
    size_t pos = 0;
    std::string_view all = *text;
    while (pos <= all.size()) {
      size_t end = all.find('\n', pos);
      if (end == std::string_view::npos) end = all.size();
      std::string_view line = all.substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      std::vector<std::string_view> words = SplitWords(line);
      if (words.empty() || words[0].front() == '#') continue;
      PolicyRule rule = pattern;
      rule.location = {path, line_no};
      Status s =
          words.size() < 3
              ? Status(Fail(Errc::kInvalidArgument, fmt::format("{} fields, a rule here has SOURCE "
                                                                "TARGET ACTION",
                                                                words.size())))
              : FinishRule(rule, words, 0);
      if (!s) {
        located_ = true;
        return Fail(Errc::kInvalidArgument,
                    fmt::format("{}: {}", FormatLocation(rule.location), s.error().message()));
      }
    }
    return OkStatus();
  }

  const PolicySource& source_;
  std::string base_dir_;
  std::vector<PolicyRule> rules_;
  bool located_ = false;  // the error already names the innermost FILE:LINE
};

Result<Policy> Policy::Parse(std::string_view text, const std::string& file,
                             const PolicySource& source, const std::string& base_dir) {
  PolicyParser parser(source, base_dir);
  QNET_TRY(parser.ParseText(text, file, 0));
  return parser.Take();
}

Result<Policy> LoadPolicy(const PolicySource& source, const std::string& dir) {
  PolicyParser parser(source, dir);
  Result<std::vector<std::string>> names = source.ListDir(dir);
  if (!names && names.error().code() == Errc::kNotFound) return parser.Take();
  if (!names) return names.error().Wrap("policy");
  QNET_TRY(parser.IncludeDir(dir, 0));
  return parser.Take();
}

}  // namespace qnet::qrexec
