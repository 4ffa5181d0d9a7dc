#include "sim/cli/step_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "sim/cli/output.h"
#include "sim/config/topology_file.h"
#include "sim/engine/backend.h"
#include "sim/report/trace.h"
#include "sim/topology/bill_of_materials.h"
#include "sim/topology/placement.h"
#include "sim/units/units.h"
#include "sim/workload/memory.h"
#include "sim/workload/what_if.h"

namespace collsim::cli {

namespace {

// "a, b and c".
std::string and_list(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  return out;
}

// The error for a configuration that does not fit: the peak stage, its
// largest terms, and the changes that would make it fit.
Error out_of_memory(const workload::WorkloadSpec& w, int dp, const workload::MemoryPlan& plan) {
  const auto& s = plan.peak();
  auto fmt_bytes = [](double b) { return units::format(units::Bytes{b}); };
  std::vector<std::pair<double, std::string>> terms{{s.activations, "activations"},
                                                    {s.optimizer, "optimizer states"},
                                                    {s.weights, "weights"},
                                                    {s.grads, "gradients"},
                                                    {s.logits, "logits"}};
  std::sort(terms.rbegin(), terms.rend());
  std::string fixes;
  std::vector<std::string> tried;
  for (const auto& f : workload::memory_fixes(w, dp, plan.capacity, &tried))
    fixes += fmt::format("{}{} ({})", fixes.empty() ? "" : ", ", f.change, fmt_bytes(f.peak_bytes));
  std::string field =
      terms[0].second == "activations"
          ? (w.batch.micro > 1 ? "batch.micro" : "compute.recompute")
          : (terms[0].second == "optimizer states" || terms[0].second == "gradients" ? "parallelism.zero"
                                                                                     : "parallelism.pp");
  // Causes no parallelism fixes: a reserve as large as the HBM, or
  // activations of one micro-batch that no recompute brings down.
  if (s.reserve >= plan.capacity) {
    field = "memory.reserve";
  } else if (fixes.empty() && terms[0].second == "activations" && w.batch.micro == 1) {
    field = "model.seq_len";
  }
  // Point at a field the file has (the one to change may not be written).
  std::string at = field;
  // A value given with --set-workload has its flag as its place (line 0).
  auto placed = [&w](const std::string& f) {
    const auto it = w.marks.find(f);
    return it != w.marks.end() && (it->second.line > 0 || it->second.file.str().starts_with("--"));
  };
  for (const char* f : {"batch.micro", "parallelism.zero", "parallelism.pp", "parallelism.tp", "batch.global"})
    if (!placed(at)) at = f;
  std::string parts;
  for (const auto& [bytes, name] : terms)
    if (bytes > 0) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", name, fmt_bytes(bytes));
  const Error e = w.error_at(
      at, fmt::format("does not fit in memory: pipeline stage {} needs {} per GPU of {} HBM ({}, reserve {}); {}; or "
                      "run with --memory-check off (collsim run --memory prints every stage)",
                      s.stage, fmt_bytes(s.total()), fmt_bytes(plan.capacity), parts, fmt_bytes(s.reserve),
                      !fixes.empty() ? "it fits with " + fixes
                      : tried.empty()
                          ? std::string("recompute, ZeRO and the micro-batch are at their ends and the pipeline cannot "
                                        "deepen: use more GPUs or GPUs with more HBM")
                          : fmt::format("no combination of {} makes it fit: use more GPUs or GPUs with more HBM",
                                        and_list(tried))));
  return e;
}

Expected<std::unique_ptr<StepRun>> run_step_as_given(const StepRequest& req,
                                                     const std::function<void(const std::string&)>& status) {
  auto say = [&](const std::string& s) {
    if (status) status(s);
  };
  auto run = std::make_unique<StepRun>();
  auto spec = req.topology_text ? config::load_topology_text(*req.topology_text, req.topology_file, req.topology_sets)
                                : config::load_topology_file(req.topology_file, req.topology_sets);
  if (!spec) return spec.error();
  run->spec = std::move(*spec);
  auto topo = topology::build_topology(run->spec);
  if (!topo) return topo.error();
  run->topo = std::move(*topo);
  run->network = std::make_unique<topology::Network>(run->topo);
  const topology::Network& network = *run->network;
  auto workload = req.workload_text
                      ? workload::load_workload_text(*req.workload_text, req.workload_file, req.workload_sets)
                      : workload::load_workload_file(req.workload_file, req.workload_sets);
  if (!workload) return workload.error();
  run->workload = std::move(*workload);
  auto gpu = workload::resolve_gpu_model(run->workload, run->spec);
  if (!gpu) return gpu.error();

  workload::CommChoice choice;
  // NCCL_ALGO's names read in any case (Ring, NVLSTree), as `collective` reads them.
  choice.algorithm = engine::algorithm_name(req.algo.value_or(run->workload.comm.algorithm));
  choice.protocol = req.proto.value_or(run->workload.comm.protocol);
  choice.simgrid_max_work = req.auto_max_work;
  choice.nccl = run->workload.comm.nccl;
  if (auto s = workload::check_comm_choice(choice.algorithm, choice.protocol); !s) {
    return make_error(fmt::format("--{}: {}", s.error().field == "algorithm" ? "algo" : "proto", s.error().message));
  }

  std::vector<int> placed;  // rank -> GPU; empty: every GPU
  std::string where;
  if (req.placement != "all") {
    auto p = topology::place(network, req.placement, req.busy_gpus);
    if (!p) {
      Error e = p.error();
      e.message = "--placement: " + e.message;
      return e;
    }
    if (!p->everything) {
      placed = std::move(p->gpus);
      where = fmt::format("{} ({})", req.placement, p->where);
    }
  }

  say("compiling the step");
  auto graph = workload::compile_step(run->workload, network, *gpu, placed);
  if (!graph) return graph.error();
  run->graph = std::move(*graph);
  run->report.memory = workload::plan_memory(run->workload, run->graph.dp, gpu->hbm_bytes);
  if (req.memory_only) {
    run->report.gpu = *gpu;
    if (req.memory_check && !run->report.memory.fits())
      run->memory_error = out_of_memory(run->workload, run->graph.dp, run->report.memory);
    return run;
  }
  if (req.memory_check && !run->report.memory.fits())
    return out_of_memory(run->workload, run->graph.dp, run->report.memory);
  auto backend = engine::make_backend(req.backend);
  if (!backend) return backend.error();

  say(fmt::format("costing {} collectives on the {} engine", run->graph.calls.size(), (*backend)->name()));
  workload::CommCostStats stats;
  auto costs = workload::cost_calls(
      run->graph.calls, network, **backend, choice, &stats,
      [&, since = std::chrono::steady_clock::now()](std::size_t done, std::size_t total) {
        say(fmt::format("costing collectives: candidate runs {}", count_and_time_left(done, total, since)));
      });
  if (!costs) {
    // An algorithm or protocol the workload named and these ranks cannot run:
    // the error points at the workload's field.
    const Error& e = costs.error();
    if (!e.internal() && !e.where && e.field.empty()) {
      if (!req.algo && run->workload.comm.algorithm != "auto")
        return run->workload.error_at("communication.algorithm", e.message);
      if (!req.proto && run->workload.comm.protocol != "auto")
        return run->workload.error_at("communication.protocol", e.message);
    }
    return e;
  }
  run->costs = std::move(*costs);

  say(fmt::format("simulating the step ({} operations)", run->graph.ops.size()));
  if (req.track_links > 0) {
    run->sim_options.track_links = report::busiest_links(run->graph, run->costs, network, req.track_links);
  }
  if (req.bin_link_groups) {
    run->link_groups = report::resource_groups(network);
    run->sim_options.link_group = run->link_groups.of_link;
  }
  run->result = workload::simulate_step(run->graph, run->costs, network, run->sim_options);
  if (!run->result.complete) {
    return make_internal_error("the step's operations wait on each other in a cycle");
  }
  // The inputs' ranges keep every time finite; a step that is not is a bug,
  // never an answer.
  if (!std::isfinite(run->result.step_time_s) || !(run->result.step_time_s >= 0)) {
    return make_internal_error(fmt::format("the step time came out as {}", run->result.step_time_s));
  }

  workload::MemoryPlan memory = std::move(run->report.memory);
  run->report = report::summarise_step(run->workload, run->spec.name, run->graph, run->costs, run->result, network);
  run->report.memory = std::move(memory);
  if (run->topo.failed.any()) run->report.failures = run->topo.failed.text();
  run->report.placement = where;
  run->report.backend = req.backend;
  run->simulated = true;
  run->report.cost_stats = stats;
  run->report.gpu = *gpu;
  // The cluster's energy and cost over the step: every GPU is the job's.
  auto bill = topology::bill_of_materials(run->spec);
  if (!bill) return bill.error();
  run->report.bill = std::move(*bill);
  run->report.energy_spec = run->spec.catalog.energy;
  // GPUs outside a placement idle through the step.
  const double job_share = static_cast<double>(run->graph.gpus) / network.num_gpus();
  run->report.energy = topology::step_energy(run->report.bill, run->report.energy_spec, run->result.step_time_s,
                                             run->result.compute_s, job_share);
  run->report.has_energy = true;
  if (req.what_if) {
    workload::WhatIfOptions options;
    options.workload = &run->workload;
    options.gpu = &run->report.gpu;
    options.placement = &placed;
    auto what_ifs = workload::run_what_ifs(run->spec, run->topo, run->graph, run->costs, run->result, choice, **backend,
                                           options, [&](const std::string& r) { say("what if: " + r); });
    if (!what_ifs) return what_ifs.error();
    run->report.bottlenecks = std::move(*what_ifs);
  }
  return run;
}

}  // namespace

// An error placed in the workload file while --set-workload changed it may
// come from the changes (10,000 layers that no longer fit, blamed on the
// field to change): it names them.
Error naming_workload_sets(Error e, const StepRequest& req) {
  if (!req.workload_sets.empty() && e.where && e.where->file.str() == req.workload_file && !e.internal()) {
    std::string sets;
    for (const auto& x : req.workload_sets) sets += fmt::format("{}--set-workload {}", sets.empty() ? "" : " ", x);
    e.message += fmt::format(" (the file as changed by {})", sets);
  }
  return e;
}

Expected<std::unique_ptr<StepRun>> run_step(const StepRequest& req,
                                            const std::function<void(const std::string&)>& status) {
  auto run = run_step_as_given(req, status);
  if (!run) return naming_workload_sets(run.error(), req);
  if ((*run)->memory_error) (*run)->memory_error = naming_workload_sets(*(*run)->memory_error, req);
  return run;
}

StepRequest step_request_from(const ParsedArgs& args) {
  StepRequest request;
  request.topology_file = args.get("topology");
  request.workload_file = args.get("workload");
  request.topology_sets = topology_sets(args);
  request.workload_sets = args.all("set-workload");
  request.backend = args.get("backend");
  return request;
}

}  // namespace collsim::cli
