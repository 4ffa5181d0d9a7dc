// `collsim validate --steps` (validate_steps.cc).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace collsim::cli {

// Runs the step validation table `file` on `backend`, with `workload_sets`
// applied to every row's workload after the row's own; writes the table to
// standard output unless `to_stdout` (the JSON goes there instead), and the
// JSON to `json_out` when given. Returns the process exit code.
int validate_steps(const std::string& file, const std::string& backend, const std::vector<std::string>& workload_sets,
                   const std::optional<std::string>& json_out, bool to_stdout);

}  // namespace collsim::cli
