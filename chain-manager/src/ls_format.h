// `qnet ls`: the qvm-ls-like table, from the rows qnetd returns as JSON.
#pragma once

#include <string>

#include "qnet/base/result.h"

namespace qnet::chain {

// color: paint each label in its colour (a terminal).
Result<std::string> FormatQubeTable(const std::string& rows_json, bool color);

}  // namespace qnet::chain
