// Inside the SimGrid child process: builds the platform and runs schedules.
// Only simgrid_backend.cc calls this.
#pragma once

#include <functional>
#include <vector>

#include "sim/engine/backend.h"
#include "sim/engine/plan.h"

namespace collsim::engine::detail {

// Runs the plan in a fresh SimGrid engine. REQUIRES: called at most once per
// process (SimGrid's engine is a process-wide singleton).
std::vector<ScheduleResult> run_plan_in_this_process(const Plan& plan);

}  // namespace collsim::engine::detail
