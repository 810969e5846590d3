#include "qnet/firewall/rule_parser.h"

#include <fmt/format.h>

#include <bitset>
#include <vector>

#include "rule_options.h"

namespace qnet::firewall {
namespace {

using internal::Field;
using internal::KeyRow;

constexpr std::string_view kCommentKey = "comment=";
constexpr std::string_view kSeparators = " \t";

Unexpected<Error> Invalid(std::string message) {
  return Fail(Errc::kInvalidArgument, std::move(message));
}

// What qvm-firewall's positional form fills, in order, and the key each
// positional value stands for.
struct Positional {
  Field field;
  std::string_view key;
};
constexpr Positional kPositionalOrder[] = {
    {Field::kAction, "action"},     {Field::kDst, "dsthost"},       {Field::kProto, "proto"},
    {Field::kDstPorts, "dstports"}, {Field::kIcmpType, "icmptype"},
};

class RuleBuilder {
 public:
  explicit RuleBuilder(int64_t now) : ctx_{now} {
    for (const Positional& p : kPositionalOrder) positional_.push_back(p);
  }

  Status Keyword(std::string_view key, std::string_view value) {
    const KeyRow* row = internal::FindKey(key);
    if (row == nullptr) {
      return Invalid(fmt::format("{}: unknown option (known: {})", internal::Sanitize(key, 40),
                                 internal::KnownKeys()));
    }
    return Apply(*row, value);
  }

  Status PositionalValue(std::string_view value) {
    if (positional_.empty()) {
      return Invalid(
          fmt::format("{}: one value too many for ACTION [DSTHOST [PROTO [DSTPORTS|ICMPTYPE]]]",
                      internal::Sanitize(value, 40)));
    }
    return Apply(*internal::FindKey(positional_.front().key), value);
  }

  Result<Rule> Finish() {
    if (!seen_[static_cast<size_t>(Field::kAction)]) return Invalid("action: missing");
    QNET_TRY(Validate(rule_));
    return rule_;
  }

 private:
  Status Apply(const KeyRow& row, std::string_view value) {
    auto index = static_cast<size_t>(row.field);
    if (seen_[index]) {
      return Invalid(row.field == Field::kDst ? fmt::format("{}: destination given twice", row.key)
                                              : fmt::format("{}: given twice", row.key));
    }
    // The comment and expire ('+N') check their own character sets.
    if (row.field != Field::kComment && row.field != Field::kExpire) {
      Status safe = internal::CheckSafeChars(value);
      if (!safe) return safe.error().Wrap(row.key);
    }
    Status parsed = row.parse(value, ctx_, rule_);
    if (!parsed) return parsed.error().Wrap(row.key);
    seen_.set(index);
    Drop(row.field);
    // As qvm-firewall: the protocol decides what a fourth positional is.
    if (row.field == Field::kProto)
      Drop(*rule_.proto == Proto::kIcmp ? Field::kDstPorts : Field::kIcmpType);
    return OkStatus();
  }

  void Drop(Field field) {
    std::erase_if(positional_, [field](const Positional& p) { return p.field == field; });
  }

  internal::ParseContext ctx_;
  Rule rule_;
  std::bitset<internal::kFieldCount> seen_;
  std::vector<Positional> positional_;
};

}  // namespace

Result<Rule> ParseRule(std::string_view text, int64_t now) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  RuleBuilder builder(now);
  size_t pos = 0;
  while ((pos = text.find_first_not_of(kSeparators, pos)) != std::string_view::npos) {
    std::string_view rest = text.substr(pos);
    if (rest.starts_with(kCommentKey)) {
      // The comment may hold spaces, so it runs to the end of the line.
      QNET_TRY(builder.Keyword("comment", rest.substr(kCommentKey.size())));
      break;
    }
    size_t end = text.find_first_of(kSeparators, pos);
    std::string_view token = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end;
    size_t eq = token.find('=');
    if (eq == std::string_view::npos) {
      QNET_TRY(builder.PositionalValue(token));
    } else {
      QNET_TRY(builder.Keyword(token.substr(0, eq), token.substr(eq + 1)));
    }
  }
  return builder.Finish();
}

Result<Rule> ParseNumberedRule(int number, std::string_view text, int64_t now) {
  auto rule = ParseRule(text, now);
  if (!rule) {
    return rule.error().Wrap(fmt::format("rule {} ({})", number, internal::Sanitize(text)));
  }
  return rule;
}

}  // namespace qnet::firewall
