#include "sim/cli/exit_code.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace collsim::cli {

namespace {
constexpr int kExitInternal = 1;
constexpr int kExitBadInput = 2;
}  // namespace

int exit_code(const Error& error) { return error.internal() ? kExitInternal : kExitBadInput; }

int fail(std::string_view command, const Error& error) {
  if (::isatty(STDERR_FILENO) != 0) std::fputs("\r\033[K", stderr);
  const std::string who = command.empty() ? "collsim" : fmt::format("collsim {}", command);
  std::fprintf(stderr, "%s: %s: %s\n", who.c_str(), error.internal() ? "internal error" : "error",
               error.to_string().c_str());
  return exit_code(error);
}

}  // namespace collsim::cli
