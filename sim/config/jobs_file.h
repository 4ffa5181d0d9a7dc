// A jobs file (`collsim run --jobs FILE`): the jobs that share a cluster at
// once, each a workload file, the GPUs it runs on and when it starts, as
// `--job WORKLOAD@PLACEMENT[@START]` takes them (cli/jobs_run.h):
//
//   jobs:
//     - {workload: workloads/llama3-70b.yaml, placement: "gpus:0-255"}
//     - {workload: workloads/deepseek-v3.yaml, placement: "gpus:288-543", start: 2s}
//
// Workload paths are relative to the current directory, as on the command
// line. Placements are checked when the jobs are placed (topology::place).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/core/error.h"

namespace collsim::config {

struct JobEntry {
  std::string workload, placement;
  double start_s = 0;
  SourceMark at;                         // the entry in the file
  SourceMark workload_at, placement_at;  // its fields' values
  std::string field;                     // "jobs[i]"
};

// A job's start (`start:` here, @START after --job): seconds, or none when
// `text` is not a time from 0 to 1e9 s (such as 2s or 500ms).
std::optional<double> parse_job_start(const std::string& text);

// Errors (file:line:column and the field): no `jobs` list, an entry without
// workload or placement, an unknown key, a start that is not a time >= 0.
Expected<std::vector<JobEntry>> load_jobs_file(const std::string& path);

}  // namespace collsim::config
