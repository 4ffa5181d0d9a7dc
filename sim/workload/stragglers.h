// Stragglers and jitter (issue 17 item 2): a step's time when GPUs do not
// all compute at the same speed. Monte-Carlo over samples of the step: each
// sample draws every GPU's compute-time multiplier, a worker (the tp x cp
// GPUs of one stage of one replica, step_graph.h) runs at its slowest GPU's
// pace (its tensor- and context-parallel collectives wait for it), and the
// step is simulated again from the collective costs already computed (no
// collective is re-costed: a slow GPU computes slower, its links do not).
//
// Per-GPU multiplier in one sample: max(kMinMultiplier, 1 + jitter x Z) /
// speed, Z standard normal, drawn once per step (a GPU's clock, power and
// thermal state over one step), speed < 1 for a persistently slow GPU.
// With link_jitter, every link a collective uses draws a time multiplier
// the same way, and each collective's time is multiplied by the largest of
// its links' (frozen: its full-speed duration; exact: its time alone).
//
// Each sample is, by default, the step's DAG with its collectives frozen at
// the durations they took in the full-speed simulation (contention as it
// was) and compute ops stretched: a longest path, microseconds per sample.
// With `exact`, every sample is simulated again with its links shared
// anew (stragglers shift which collectives overlap); tests/stragglers_test.cc
// checks how far apart the two come out. The persistently slow GPUs alone
// are always simulated exactly.
//
// ASSUMPTION (named default kDefaultJitter, overridable): 1.1% standard
// deviation. Meta reports "9% GPU time variability" across a 64,000-GPU
// training job (PRISM, arXiv 2510.15596); read as the spread between the
// fastest and slowest of 65,536 GPUs, about 8.3 standard deviations of a
// normal distribution, that is 1.1% per GPU. The paper's own definition
// may differ: the figure is an interpretation, so it is overridable.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/topology/network.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/step_sim.h"

namespace collsim::workload {

inline constexpr double kDefaultJitter = 0.011;
inline constexpr double kMinMultiplier = 0.5;

struct StragglerOptions {
  int samples = 100;
  double jitter = kDefaultJitter;  // standard deviation of a GPU's compute-time multiplier, >= 0
  // Standard deviation of each link's time multiplier per sample (its
  // throughput's jitter); a collective runs at its slowest link's pace.
  // No published figure found: 0 (off) unless given.
  double link_jitter = 0;
  // Persistently slow GPUs: (GPU index, speed in (0, 1]).
  std::vector<std::pair<int, double>> slow;
  std::uint64_t seed = 1;
  bool exact = false;  // re-simulate every sample (links shared anew) instead of freezing the collectives
};

struct StragglerResult {
  double baseline_s = 0;   // every GPU at full speed, no jitter
  double slow_only_s = 0;  // the persistently slow GPUs, no jitter
  double mean_s = 0, p50_s = 0, p90_s = 0, p99_s = 0, max_s = 0;
  std::vector<double> samples;  // step times, sorted
  // Samples at or above p90, by the pipeline stage of the worker that drew
  // the largest multiplier (index = stage).
  std::vector<int> tail_by_stage;
};

// Preconditions: `result` is simulate_step's on the same graph, costs and
// options; samples >= 1; every slow GPU index < graph.gpus, speed in (0, 1].
StragglerResult simulate_stragglers(const StepGraph& graph, const std::vector<CommCost>& costs,
                                    const topology::Network& network, const StepSimOptions& base,
                                    const StragglerOptions& options,
                                    const std::function<void(int, int)>& progress = {});

}  // namespace collsim::workload
