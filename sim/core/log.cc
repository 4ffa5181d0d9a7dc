#include "sim/core/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace collsim::log {

spdlog::logger& get() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("collsim", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("collsim: %l: %v");
    l->set_level(spdlog::level::warn);
    return l;
  }();
  return *logger;
}

bool set_level(const std::string& name) {
  for (const auto level : {spdlog::level::trace, spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
                           spdlog::level::err, spdlog::level::off}) {
    const auto text = spdlog::level::to_string_view(level);
    if (name == std::string(text.data(), text.size()) || (level == spdlog::level::err && name == "error")) {
      get().set_level(level);
      return true;
    }
  }
  return false;
}

}  // namespace collsim::log
