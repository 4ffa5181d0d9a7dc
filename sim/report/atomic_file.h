// Outputs are never half-written: content goes to a temporary file in the
// same directory, which is then renamed over the target.
#pragma once

#include <string>

#include "sim/core/error.h"

namespace collsim::report {

Status write_file_atomically(const std::string& path, const std::string& content);

}  // namespace collsim::report
