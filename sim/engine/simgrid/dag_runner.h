// Inside the SimGrid child process: builds the platform and runs schedules.
// Only simgrid_backend.cc calls this.
#pragma once

#include <functional>
#include <vector>

#include "sim/engine/backend.h"

namespace collsim::engine::detail {

// A transfer with everything the runner needs resolved up front.
struct PlannedTransfer {
  int src_host = 0;
  int dst_host = 0;
  double bytes = 0;
  double route_latency_s = 0;
  std::vector<int> deps;
  int queue_after = -1;  // see collective::Transfer::queue_after
};

struct PlannedSchedule {
  std::vector<PlannedTransfer> transfers;
  double launch_latency_s = 0;  // before any transfer may start
};

struct Plan {
  std::vector<std::string> host_names;
  std::vector<topology::NetworkLink> links;
  // One route per (src_host, dst_host) pair in use, as link indices into `links`.
  struct Route {
    int src_host, dst_host;
    std::vector<int> links;
  };
  std::vector<Route> routes;
  std::vector<PlannedSchedule> schedules;
  bool record_transfers = false;
  std::function<void(std::size_t, std::size_t)> on_progress;  // may be empty
};

// Runs the plan in a fresh SimGrid engine. REQUIRES: called at most once per
// process (SimGrid's engine is a process-wide singleton).
std::vector<ScheduleResult> run_plan_in_this_process(const Plan& plan);

}  // namespace collsim::engine::detail
