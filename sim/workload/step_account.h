// Where a simulated step's time went (step_sim.h): per worker, compute,
// each group's communication (running and exposed: no compute running,
// shared evenly among the groups exposed at once) and bubble, then their
// means over the workers; and the critical path, back from the operation
// that finished last along the dependency that finished last
// (StepResult::binding).
#pragma once

#include "sim/workload/step_graph.h"
#include "sim/workload/step_sim.h"

namespace collsim::workload {

// REQUIRES: r.start_s, r.finish_s, r.binding and r.step_time_s set for every
// operation of `g` (a complete run). Fills r.compute_s, r.bubble_s,
// r.exposed_s, r.comm_s, r.critical_path, r.critical_s and
// r.critical_compute_s.
void account_step(const StepGraph& g, StepResult& r);

}  // namespace collsim::workload
