#include "qnet/base/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <string>

namespace qnet {

void InitLogging(std::string_view program_name, std::string_view level) {
  auto logger = spdlog::stderr_logger_mt(std::string(program_name));
  logger->set_pattern("[%n %P] %l: %v");
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

}  // namespace qnet
