// The one place where an outcome becomes the process exit code. Commands
// return kExitOk or fail(command, error); the error's kind decides the code:
// 2 for bad input (a file, flag or path the user can fix), 1 for an internal
// failure (the engine, the machine, an invariant of collsim).
#pragma once

#include <string_view>

#include "sim/core/error.h"

namespace collsim::cli {

constexpr int kExitOk = 0;

// 2 for ErrorKind::kBadInput, 1 for ErrorKind::kInternal.
int exit_code(const Error& error);

// Prints "collsim COMMAND: error: ..." ("internal error: ..." for internal
// failures) as one line on stderr, first clearing a progress line when stderr
// is a terminal, and returns exit_code(error). An empty command prints
// "collsim: error: ...".
int fail(std::string_view command, const Error& error);

}  // namespace collsim::cli
