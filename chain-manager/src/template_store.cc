#include "qnet/chain/template_store.h"

#include <fmt/format.h>

namespace qnet::chain {

std::string TemplateDir(const std::string& template_value, std::string_view root) {
  if (template_value.empty() || template_value.front() == '/') return template_value;
  return fmt::format("{}/{}", root, template_value);
}

}  // namespace qnet::chain
