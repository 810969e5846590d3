// `qnet firewall QUBE ...` as qvm-firewall takes it, turned into the request
// qnetd's admin.Firewall reads. Pure: the caller passes the text of a rule
// file; no I/O here.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "qnet/base/result.h"

namespace qnet::chain {

struct FirewallArgs {
  std::string qube;
  std::string op = "list";         // qvm-firewall lists when given no operation
  std::vector<std::string> words;  // add, del: the words of ONE rule (add --rules: rules)
  std::string before;              // add --before N
  std::string rule_no;             // del --rule-no N
  bool several = false;            // add --rules: each word is a whole rule
  bool json = false;               // list --json
  bool raw = false;                // list --raw
};

// The rules of a rule file (`set FILE`): one per line; blank lines and
// lines whose first non-blank character is '#' are skipped. Each rule is
// parsed here, so that an error names the file and line:
//   "rules.txt:2: dstports: port 99999 out of range 0-65535".
Result<std::vector<std::string>> ParseRuleFile(std::string_view text, std::string_view name);

// admin.Firewall's request {qube, op, rules[], before, json, raw}. All the
// words of `add` form one rule, as in qvm-firewall (`add drop
// dsthost=203.0.113.10 proto=tcp dstports=80`), unless `several`; `del`
// takes one rule from all its words, or a number (`del N`, `--rule-no N`);
// `set` takes the rules of `file_text` (read by the caller). Errors name
// the option: "--before: '-1' is not a rule number (0 = first)".
Result<nlohmann::json> FirewallRequest(const FirewallArgs& a, std::string_view file_name = {},
                                       std::string_view file_text = {});

}  // namespace qnet::chain
