// Bottleneck attribution: which resources the step's critical path waits on,
// and how much faster the step would be if each were upgraded.
//
// Resources are classes of links, named by their link class and the kinds of
// device at their ends ("infiniband nic-switch", "nvlink5 gpu-nvswitch",
// "pcie gpu-nic"), plus GPU compute and cable length. For the link classes
// the critical path's collectives use (ranked by the time they spend on it),
// the step is re-run with that class twice as fast; compute is re-run twice
// as fast; HBM bandwidth twice as fast when compute is timed per kernel
// (memory-bound kernels and bandwidth-bound GEMMs speed up, the rest not);
// twice NCCL's queue pairs per network connection (a setting, where a ring
// channel's network rate is its queue pairs'), when the critical path leaves
// the NVLink domain; SHARP on an InfiniBand fabric whose switches do not reduce yet, when the
// step all-reduces across NVLink domains (in-network reduction, NCCL's
// CollNet; collective/collnet.h);
// and, when the critical path crosses cables, every cable 10 m
// shorter (latency at the cable medium's delay per metre). Each what-if is a
// full re-run: collectives re-costed on the changed network, the step
// re-simulated with the same schedule.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/engine/backend.h"
#include "sim/topology/topology.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/step_sim.h"

namespace collsim::workload {

// "infiniband nic-switch": a link's class and the kinds at its ends (sorted).
std::string resource_of(const std::string& link_class, config::DeviceKind a, config::DeviceKind b);

// NVSwitches' reduction engines (NVLS), named beside the link classes (the
// step's link use and what-ifs, `collective`'s busiest): busy for their adds
// at topology::Network::nvls_reduction_rate_Bps.
inline constexpr const char* kEngineResource = "nvswitch reduction engines";

struct WhatIf {
  std::string resource;   // "infiniband nic-switch", "GPU compute", "cables"
  std::string what_if;    // "400 Gb/s -> 800 Gb/s"
  double critical_s = 0;  // time the baseline's critical path spent on it
  double step_time_s = 0;
  double delta_pct = 0;  // (what-if - baseline) / baseline x 100
};

struct WhatIfOptions {
  int max_link_classes = 4;  // the top link classes of the critical path to try
  double cable_cut_m = 10;   // "cables 10 m shorter"
  double speedup = 2;        // "twice as fast"
  // With both set and compute timed per kernel: "GPU HBM" (the step
  // recompiled with `speedup` x the HBM bandwidth, the same collectives).
  const WorkloadSpec* workload = nullptr;
  const StepGpu* gpu = nullptr;
  // The GPUs the step was compiled for (compile_step's placement), which
  // the recompiled step keeps; null or empty: every GPU.
  const std::vector<int>* placement = nullptr;
};

// Resource -> seconds of the critical path spent in collectives over it.
std::vector<std::pair<std::string, double>> critical_resources(const StepGraph& graph,
                                                               const std::vector<CommCost>& costs,
                                                               const StepResult& result,
                                                               const topology::Network& network);

Expected<std::vector<WhatIf>> run_what_ifs(const config::TopologySpec& spec, const topology::Topology& topo,
                                           const StepGraph& graph, const std::vector<CommCost>& costs,
                                           const StepResult& baseline, const CommChoice& choice,
                                           engine::Backend& backend, const WhatIfOptions& options = {},
                                           const std::function<void(const std::string&)>& on_start = {});

}  // namespace collsim::workload
