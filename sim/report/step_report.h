// The training-step report of `collsim run`: text for a terminal and JSON
// for machines (docs/workload-format.md, "The report").
#pragma once

#include <string>
#include <vector>

#include "sim/report/json.h"
#include "sim/topology/bill_of_materials.h"
#include "sim/topology/network.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/memory.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/step_sim.h"
#include "sim/workload/stragglers.h"
#include "sim/workload/what_if.h"
#include "sim/workload/workload_spec.h"

namespace collsim::report {

struct CollectiveSummary {
  std::string group, op, algo, proto;
  int ranks = 0;
  double bytes = 0;         // nccl-tests size
  long long count = 0;      // calls per step
  double time_alone_s = 0;  // each, alone
  double time_mean_s = 0;   // each, as it ran (contention included)
};

// In the link-use tables, workload::kEngineResource (what_if.h) stands for
// NVSwitches' reduction engines: `links` counts switches, bytes are adds.
struct LinkUse {
  std::string name, resource;
  double bytes = 0, utilisation = 0;
};

struct ResourceUse {
  std::string resource;
  int links = 0;
  double bytes = 0, mean_utilisation = 0, max_utilisation = 0;
};

struct StepReport {
  std::string workload, topology;
  int gpus = 0;
  std::string placement;  // where the job runs when not on every GPU (topology::Placement::where); empty otherwise
  const workload::WorkloadSpec* spec = nullptr;
  const workload::StepGraph* graph = nullptr;
  const workload::StepResult* result = nullptr;
  std::vector<CollectiveSummary> collectives;
  std::array<double, workload::kGroupCount> bytes_per_gpu{};  // payload sent per GPU per step, by group
  std::vector<LinkUse> busiest_links;                         // the ten busiest
  std::vector<ResourceUse> resources;
  std::vector<workload::WhatIf> bottlenecks;
  workload::CommCostStats cost_stats;
  workload::StepGpu gpu;  // the GPUs' model and peak (for MFU); peak 0 = unknown
  workload::MemoryPlan memory;
  std::string failures;  // the topology's failed and degraded cables (FailureSummary::text()); empty: none
  std::string backend;   // the engine that costed the collectives ("simgrid", "analytical"); empty: unsaid
  // `collsim run --stragglers N`: the step with GPUs of uneven speed
  // (stragglers.h); null when not asked. `slow_gpus` names the persistently
  // slow ones with their speed.
  const workload::StragglerResult* stragglers = nullptr;
  workload::StragglerOptions straggler_options;
  std::vector<std::string> slow_gpus;
  // The whole cluster's energy and cost over the step (bill_of_materials.h),
  // with the bill it was priced from; has_energy false: not computed.
  bool has_energy = false;
  topology::BillOfMaterials bill;
  config::EnergySpec energy_spec;
  topology::StepEnergy energy;
};

// Throughput of a simulated step. model FLOPs: workload::model_flops_per_token.
struct Throughput {
  double tokens_per_s = 0;
  double tokens_per_gpu_s = 0;
  double model_tflops_per_gpu = 0;  // model FLOP/s per GPU / 1e12
  double mfu = 0;                   // model FLOP/s per GPU / the GPUs' peak; NaN when the peak is unknown
};
Throughput throughput(const StepReport& r);

// The parts a bill leaves out, "1024 gpu, 64 cable (fibre)" (empty: none),
// and the line a report's energy and cost print for them: "NOT COUNTED:
// 1024 gpu without a catalog part (0 W, $0 above; ...)".
std::string unpriced_list(const topology::BillOfMaterials& bill);
std::string unpriced_note(const topology::BillOfMaterials& bill);

// Fills the summaries from a simulated step.
StepReport summarise_step(const workload::WorkloadSpec& spec, const std::string& topology_name,
                          const workload::StepGraph& graph, const std::vector<workload::CommCost>& costs,
                          const workload::StepResult& result, const topology::Network& network);

std::string step_text(const StepReport& r);
std::string step_json(const StepReport& r);

// The memory plan alone as JSON: {"capacity_bytes", "peak_bytes", "peak_stage", "fits", "stages": [...]}.
std::string memory_json(const workload::MemoryPlan& plan);
void write_memory_json(JsonWriter& j, const workload::MemoryPlan& plan);

}  // namespace collsim::report
