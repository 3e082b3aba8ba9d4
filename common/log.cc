#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <string>

namespace rcuda {

void InitLogging(std::string_view component, std::string_view level) {
  // Not registered in spdlog's registry, so calling this twice is harmless.
  auto logger = std::make_shared<spdlog::logger>(std::string(component),
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("[%H:%M:%S.%e] [" + std::string(component) + "] [%l] %v");
  spdlog::level::level_enum lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") lvl = spdlog::level::info;
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace rcuda
