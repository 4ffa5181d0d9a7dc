// A simulated step as a Chrome Trace Event file (JSON, the format Perfetto
// and chrome://tracing open): one process per shown worker (a pipeline stage
// of one replica, its GPUs named), with a track for its compute stream
// (compute kernels and blocking TP/CP/EP collectives), one per pipeline
// receive direction and one for gradient reduction; flow arrows from each
// pipeline send to its receiver; and a counter track of utilisation for each
// of the busiest links. Times are microseconds from the step's start.
#pragma once

#include <string>
#include <vector>

#include "sim/topology/network.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/step_merge.h"
#include "sim/workload/step_sim.h"

namespace collsim::report {

struct TraceOptions {
  int max_workers = 16;  // workers with tracks: every stage of replica 0 first, then more replicas
  int max_links = 8;     // counter tracks for the busiest links
};

// The `count` links that carry the most bytes relative to their rate over
// the step (known before simulating: the bytes do not depend on timing).
std::vector<int> busiest_links(const workload::StepGraph& graph, const std::vector<workload::CommCost>& costs,
                               const topology::Network& network, int count);

std::string step_trace_json(const workload::StepGraph& graph, const std::vector<workload::CommCost>& costs,
                            const workload::StepResult& result, const topology::Network& network,
                            const std::vector<int>& links, const TraceOptions& options = {});

// Several jobs at once (workload/step_merge.h) simulated together: one
// process per job, named `job_names[j]`, with the tracks above for each of
// its first `max_workers_per_job` workers (tracks numbered worker x 4 +
// track), and a counter track of utilisation for each of `links`
// (StepSimOptions::track_links of the simulation that gave `r`).
std::string jobs_trace_json(const workload::MergedSteps& merged, const workload::StepResult& r,
                            const std::vector<std::string>& job_names, const topology::Network& network,
                            const std::vector<int>& links, int max_workers_per_job = 4);

}  // namespace collsim::report
