// Qube names as Qubes accepts them. (A qube of a chain is config::QubeSpec;
// its addresses come from address.h.)
#pragma once

#include <string_view>

#include "qnet/base/result.h"

namespace qnet::qube {

// Longest qube name Qubes accepts (names must be shorter than 32 characters).
inline constexpr size_t kMaxQubeNameLength = 31;

// Qubes' validate_name: 1 to 31 characters, [a-zA-Z][a-zA-Z0-9_.-]*, not
// "none", "default", "dom0" or "Domain-0", not ending in "-dm". Returns
// kInvalidArgument naming the name and the rule it breaks, e.g.
//   invalid qube name '9lives': must start with a letter
Status ValidateQubeName(std::string_view name);

// A template's name (`qnet template create NAME`, `template = "NAME"`): the
// same rules as a qube's, as Qubes' templates are qubes; the error says
// "invalid template name '...': ...". A valid name never holds '/', so it is
// one directory under the templates directory.
Status ValidateTemplateName(std::string_view name);

}  // namespace qnet::qube
