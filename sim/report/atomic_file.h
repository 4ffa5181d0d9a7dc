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

// Where write_file_atomically puts `path`'s content: the file a symbolic
// link names (or `path` itself), and whether it is written in place (an
// existing target that is neither a regular file nor a directory).
struct OutputTarget {
  std::string path;
  bool in_place = false;
};
OutputTarget output_target(const std::string& path);

}  // namespace collsim::report
