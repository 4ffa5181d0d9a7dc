// Outputs are never half-written: content goes to a temporary file in the
// same directory, which is then renamed over the target (over the file a
// symbolic link names, not the link). A target that is not a regular file
// (a device such as /dev/null, a FIFO, a shell's /dev/fd/N) is written in
// place instead: renaming over it would replace the device. A failed write
// (ENOSPC on /dev/full) is an error.
#pragma once

#include <string>

#include "sim/core/error.h"

namespace collsim::report {

Status write_file_atomically(const std::string& path, const std::string& content);

}  // namespace collsim::report
