// collsim's log: what the simulator decided (the tuner's choice per size
// with every candidate's time, candidates skipped, SimGrid aggregation,
// PXN relays, routes), to standard error as "collsim: LEVEL: message".
// Quiet by default (warnings only); `collsim -v` shows info, `-vv` debug,
// `--log-level trace` every route. Library users call set_level.
// spdlog (Debian's libspdlog-dev).
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <utility>

namespace collsim::log {

// The logger (created on first use).
spdlog::logger& get();

// trace, debug, info, warn, error or off; false (and no change) for another name.
bool set_level(const std::string& name);

inline bool enabled(spdlog::level::level_enum level) { return get().should_log(level); }

template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  get().warn(format, std::forward<Args>(args)...);
}
template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  get().info(format, std::forward<Args>(args)...);
}
template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  get().debug(format, std::forward<Args>(args)...);
}
template <class... Args>
void trace(fmt::format_string<Args...> format, Args&&... args) {
  get().trace(format, std::forward<Args>(args)...);
}

}  // namespace collsim::log
