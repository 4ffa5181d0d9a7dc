// One training step from files to report: config -> topology -> workload
// compiler -> collective costs (engine) -> step simulation -> what-ifs.
// Shared by `collsim run` (one step, printed) and `collsim sweep` (many).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/cli/args.h"
#include "sim/config/topology_spec.h"
#include "sim/core/error.h"
#include "sim/report/html_report.h"
#include "sim/report/step_report.h"
#include "sim/topology/network.h"
#include "sim/topology/topology.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/step_sim.h"
#include "sim/workload/workload_spec.h"

namespace collsim::cli {

struct StepRequest {
  std::string topology_file, workload_file;
  // When set, the files' contents (read once by the caller; the names are
  // then only for messages).
  std::optional<std::string> topology_text, workload_text;
  std::vector<std::string> topology_sets, workload_sets;  // --set, --set-workload
  std::optional<std::string> algo, proto;                 // override the workload's communication choice
  std::string backend = "simgrid";
  bool what_if = true;
  double auto_max_work = 50e6;
  int track_links = 0;            // record utilisation timelines of this many busiest links
  bool bin_link_groups = false;   // record bytes over time per resource class (HTML heat map)
  bool memory_only = false;       // stop after the memory plan (run->simulated stays false)
  bool memory_check = true;       // a configuration that does not fit in HBM is an input error
  std::string placement = "all";  // which GPUs the job runs on (topology::place)
  std::vector<char> busy_gpus;    // per GPU, nonzero when another job holds it (topology::place); empty: none
};

// Everything a step's reports need. Held by pointer: its parts refer to
// each other (the network to the topology, the report to the graph).
struct StepRun {
  config::TopologySpec spec;
  topology::Topology topo;
  std::unique_ptr<topology::Network> network;
  workload::WorkloadSpec workload;
  workload::StepGraph graph;
  std::vector<workload::CommCost> costs;
  workload::StepSimOptions sim_options;
  workload::StepResult result;
  report::LinkGroups link_groups;  // when bin_link_groups
  report::StepReport report;
  bool simulated = false;  // false: only the memory plan was made (StepRequest::memory_only)
  // StepRequest::memory_only with memory_check on: the error a run would
  // have stopped with when the plan does not fit (`run --memory` prints the
  // plan, then stops with it, exit 2).
  std::optional<Error> memory_error;
};

// The request the step commands (`run`, `goodput`) start from: the files of
// --topology and --workload, their --set/--fail/--degrade and --set-workload
// overrides, and --backend.
StepRequest step_request_from(const ParsedArgs& args);

// `status` is told what is happening (for a progress line); may be empty.
// The error's kind says whether the inputs or the simulation failed.
Expected<std::unique_ptr<StepRun>> run_step(const StepRequest& request,
                                            const std::function<void(const std::string&)>& status = {});

}  // namespace collsim::cli
