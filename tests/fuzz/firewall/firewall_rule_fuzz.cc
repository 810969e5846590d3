// Any bytes as a qvm-firewall rule: ParseRule returns a Rule or an Error,
// and a rule it accepts prints to text that parses back to the same rule.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "qnet/firewall/rule.h"
#include "qnet/firewall/rule_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr int64_t kNow = 1'800'000'000;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto rule = qnet::firewall::ParseRule(text, kNow);
  if (!rule) return 0;
  auto again = qnet::firewall::ParseRule(qnet::firewall::FormatRule(*rule), kNow);
  if (!again || !(*again == *rule)) std::abort();
  return 0;
}
