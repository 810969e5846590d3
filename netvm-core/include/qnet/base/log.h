// Logging: a thin layer over spdlog so modules share one format.
// Each composition root calls InitLogging once; there is no other global.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace qnet {

// Sets spdlog's default logger to stderr with "[name] level: msg".
// level: "debug", "info", "warn", "error".
void InitLogging(std::string_view program_name, std::string_view level = "info");

}  // namespace qnet
