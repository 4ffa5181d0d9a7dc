// Several jobs on one cluster (issue 19): their training steps merged into
// one step graph, so one step simulation (step_sim.h) runs them at once and
// concurrent collectives of different jobs share links max-min fairly, as
// collectives of one job do (docs/workload-format.md, "How concurrent
// collectives share links").
//
// Each job's step repeats `repeats[j]` times back to back: repeat k + 1
// starts when every operation of repeat k is done (the next step begins
// after the optimizer), so a short step runs several times while a long
// one runs once and the interference is averaged over the jobs' phases.
// A job starts at its `start_s` (a compute operation of that length on no
// worker comes first: its first repeat waits for it).
#pragma once

#include <vector>

#include "sim/workload/comm_costs.h"
#include "sim/workload/step_graph.h"

namespace collsim::workload {

struct MergedSteps {
  StepGraph graph;                // every job's operations, calls and workers, shifted
  std::vector<CommCost> costs;    // per call of `graph`
  std::vector<int> job_of_op;     // per operation of `graph`
  std::vector<int> repeat_of_op;  // per operation: which repeat of its job's step
  std::vector<int> first_worker;  // per job: its first worker in `graph` (they are consecutive)
};

// One job's step: its graph and the cost of each of its calls.
struct JobStep {
  const StepGraph* graph = nullptr;
  const std::vector<CommCost>* costs = nullptr;  // costs->size() == graph->calls.size()
  int repeats = 1;                               // >= 1
  double start_s = 0;                            // >= 0: when its first step starts
};

// REQUIRES: every job's graph is complete (deps index its own operations)
// and its costs match its calls. The jobs' GPUs may overlap only if the
// caller allows it (run_jobs refuses it).
MergedSteps merge_steps(const std::vector<JobStep>& jobs);

// Per job: when its r-th repeat finished (the latest finish of its
// operations), r = 0 .. repeats - 1. `finish_s` is StepResult::finish_s of
// the merged graph.
std::vector<std::vector<double>> repeat_finish_s(const MergedSteps& merged, const std::vector<double>& finish_s,
                                                 int jobs);

}  // namespace collsim::workload
