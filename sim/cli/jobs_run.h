// Several training jobs on one cluster at once (issue 19):
// `collsim run --topology T --job A.yaml@PLACEMENT --job B.yaml@PLACEMENT`.
//
// Each job is compiled and costed on its own GPUs (topology::place) and
// simulated alone; then every job's step runs in one step simulation
// (workload/step_merge.h), where collectives of different jobs share links
// max-min fairly, as those of one job do. Reported per job: its step time
// alone and together, the slowdown, and the links both jobs use (where they
// met), with each job's utilisation of them alone.
//
// Repeats: the longest step runs `steps` times (kInterferenceSteps by
// default) and every other job repeats its step until it has run at least
// as long alone (ceil(steps x longest / its own)), so a short job meets
// every phase of a long one. A job's time together is the mean over its
// repeats. ASSUMPTION (named, `--interference-steps`): 3 steps average the
// interference well enough; a job's last repeats may run after a shorter
// neighbour has stopped, which makes its mean slowdown a lower bound.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/cli/step_run.h"
#include "sim/config/jobs_file.h"
#include "sim/core/error.h"

namespace collsim::cli {

inline constexpr int kInterferenceSteps = 3;
// At most this many operations in the merged simulation (repeats are cut
// to fit, and the cut is reported): a step's operation takes about 400
// bytes with its result (the 576-GPU Llama-3 405B step: 784 k operations,
// 340 MB in all), so 5 M is about 2 GB.
inline constexpr double kMaxMergedOps = 5e6;

struct JobRequest {
  std::string workload_file;
  std::string placement;  // topology::place's forms
  std::string spec;       // as given: "A.yaml@packed:8"
  double start_s = 0;     // when its first step starts (the others start at 0)
  // The workload file's contents when read by the caller (a study hashes
  // them); else StepRequest's workload_text, else the file is read.
  std::optional<std::string> workload_text;
  // From a jobs file (--jobs): the entry, whose place an error without one
  // of its own names (an unreadable workload, a bad placement).
  std::optional<config::JobEntry> entry;
};

// "FILE@PLACEMENT[@START]" (START a time: "2s"; the file name must not
// hold an '@'). Errors name the flag and what was found.
Expected<JobRequest> parse_job(const std::string& text);

struct JobsRequest {
  StepRequest base;  // topology, overrides, backend, algorithm; workload and placement are the jobs'
  std::vector<JobRequest> jobs;
  int steps = kInterferenceSteps;
  bool trace = false;     // fill JobsResult::trace (report/trace.h jobs_trace_json)
  int trace_links = 8;    // utilisation counters: the links where the jobs met, else the busiest
  int trace_workers = 4;  // workers per job with tracks
  bool html = false;      // fill JobsResult::html (report/html_report.h jobs_html)
};

struct JobOutcome {
  std::string spec, workload, where;
  int gpus = 0;
  double alone_s = 0;           // one step alone on the cluster
  double together_s = 0;        // mean step time with the other jobs running
  double first_together_s = 0;  // its first step with the others
  double tokens_per_step = 0;   // global batch x sequence length
  double start_s = 0;
  int repeats = 1;
};

struct MetLink {
  std::string name;
  std::vector<double> utilisation;  // per job: bytes over (rate x its step time), alone
};

struct JobsResult {
  std::string topology, backend;
  int cluster_gpus = 0;
  std::vector<JobOutcome> jobs;
  std::vector<MetLink> met;  // links at least two jobs use, busiest first (at most 10)
  std::string repeats_note;  // set when the repeats were cut to fit kMaxMergedOps
  // Set when a job's steps (from its start to its last step's end) overlap
  // no other job's: its start leaves nothing to interfere with.
  std::string overlap_note;
  std::string trace;  // Chrome Trace Event JSON of the jobs together, when asked
  std::string html;   // the HTML report, when asked
};

// Errors: a job's own (its files, its placement), two jobs on one GPU
// (bad input), a simulation that does not finish (internal).
Expected<JobsResult> run_jobs(const JobsRequest& request, const std::function<void(const std::string&)>& status = {});

std::string jobs_text(const JobsResult& r);
std::string jobs_json(const JobsResult& r);

}  // namespace collsim::cli
