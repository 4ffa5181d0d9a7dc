// Runs a compiled step (step_graph.h) in time, with every collective costed
// by the engine (comm_costs.h), and accounts for where the time went.
//
// Contention between concurrent collectives (docs/workload-format.md,
// "How concurrent collectives share links"): each running collective is one
// fluid flow whose demand on a link is its bytes there over its time alone.
// When the demands on a link exceed its rate, the collectives on it share it
// max-min fairly in bytes per second (each counts as one flow, capped at its
// own demand), and a collective's progress slows by the share it lost on its
// tightest link. Alone, a collective takes exactly its engine time; a link
// never carries more than its rate. Named assumption: the latency part of a
// slowed collective stretches with it.
#pragma once

#include <array>
#include <utility>
#include <vector>

#include "sim/topology/network.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/step_graph.h"

namespace collsim::workload {

struct StepSimOptions {
  double compute_scale = 1.0;  // multiply every compute time (0.5: compute twice as fast)
  // Per worker (StepGraph::worker_gpus), a further multiplier of its
  // compute times (stragglers.h); an operation on several workers takes the
  // largest. Empty: 1 for all.
  std::vector<double> worker_compute_scale;
  std::vector<int> track_links;  // network links whose utilisation over time to record
  // Bytes carried over time per link group (e.g. per resource class), in
  // `time_bins` equal bins covering the step: link_group[l] is link l's
  // group or -1. Empty: not recorded. Memory is groups x bins whatever the
  // step's length (bins double in width as the step grows).
  std::vector<int> link_group;
  int time_bins = 128;
};

// Bytes per link group in equal time bins from t = 0 (StepSimOptions::link_group).
struct BinnedBytes {
  double bin_s = 0;                        // width of every bin
  std::vector<std::vector<double>> bytes;  // [group][bin]
};

struct StepResult {
  bool complete = true;  // false: some operation never ran (a dependency cycle: a compiler bug)
  double step_time_s = 0;
  std::vector<double> start_s, finish_s;  // per operation
  std::vector<int> binding;               // per operation: the dependency that finished last, or -1
  std::vector<int> critical_path;         // operations, in time order
  std::vector<double> link_bytes;         // per network link, the whole step
  // Per NVSwitch (endpoint) whose reduction engines some NVLS reduction of
  // the step used: the adds they made over the whole step (bytes; their
  // rate is Network::nvls_reduction_rate_Bps). Ordered by endpoint.
  std::vector<std::pair<int, double>> engine_adds;
  // Per tracked link (options.track_links): (time, utilisation) at each change.
  std::vector<std::vector<std::pair<double, double>>> link_timeline;
  BinnedBytes group_bytes;  // when options.link_group was given
  // Per worker, then the mean over workers: compute + sum(exposed) + bubble = step time.
  double compute_s = 0, bubble_s = 0;
  std::array<double, kGroupCount> exposed_s{};   // communication with no compute running, by group
  std::array<double, kGroupCount> comm_s{};      // time with that group's communication running
  std::array<double, kGroupCount> critical_s{};  // communication time on the critical path, by group
  double critical_compute_s = 0;
  double max_slowdown = 1.0;  // the largest (time under contention / time alone) of any collective
  // Per costed collective (StepGraph::calls): its mean time as it ran, from
  // its start to its own end (contention included), over the operations
  // that started it; 0 where none did or it takes no time. An operation
  // runs several at once (a stage's dense and expert reductions) and ends
  // with the last: each keeps its own time here.
  std::vector<double> call_mean_s;
};

StepResult simulate_step(const StepGraph& graph, const std::vector<CommCost>& costs, const topology::Network& network,
                         const StepSimOptions& options = {});

}  // namespace collsim::workload
