// Google Benchmark cases for collsim's hot paths, at sizes that finish in
// seconds: building a cluster's graph and routes, costing one collective on
// each engine backend, and simulating a training step. The whole-program
// table (wall time and peak memory up to thousands of GPUs) comes from
// scripts/bench_table.sh; both are reported in docs/performance.md.
//   build/bench/collsim_bench [--benchmark_filter=Ring]
#include <benchmark/benchmark.h>

#include <string>

#include "sim/cli/collective_sweep.h"
#include "sim/config/topology_file.h"
#include "sim/engine/backend.h"
#include "sim/topology/network.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/step_sim.h"
#include "sim/workload/workload_spec.h"

namespace {

using namespace collsim;

std::string source(const std::string& path) { return std::string(COLLSIM_SOURCE_DIR) + "/" + path; }

topology::Topology load(const std::string& file, const std::vector<std::string>& sets = {}) {
  auto spec = config::load_topology_file(source(file), sets);
  if (!spec) throw std::runtime_error(spec.error().to_string());
  auto topo = topology::build_topology(*spec);
  if (!topo) throw std::runtime_error(topo.error().to_string());
  return std::move(*topo);
}

// Template expansion, graph, plane merging and the routes a ring needs, for
// state.range(0) HGX H100 nodes.
void BM_BuildClusterAndRingRoutes(benchmark::State& state) {
  const auto nodes = std::to_string(state.range(0));
  for (auto _ : state) {
    const auto topo = load("topologies/h100-ib400-128node.yaml", {"cluster.nodes=" + nodes});
    const topology::Network net(topo);
    std::size_t hops = 0;
    for (int g = 0; g < net.num_gpus(); ++g) hops += net.route(g, (g + 1) % net.num_gpus()).size();
    benchmark::DoNotOptimize(hops);
  }
  state.counters["GPUs"] = static_cast<double>(state.range(0) * 8);
}
BENCHMARK(BM_BuildClusterAndRingRoutes)->Arg(16)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);

// One 1 GiB collective (all-reduce unless named), costed by a backend (0 analytical, 1 SimGrid).
void collective(benchmark::State& state, const std::string& file, const std::string& algo,
                collective::Op op = collective::Op::kAllReduce) {
  const auto topo = load(file);
  const topology::Network net(topo);
  auto backend = engine::make_backend(state.range(0) == 0 ? "analytical" : "simgrid");
  cli::SweepRequest req;
  req.op = op;
  req.algo = algo;
  req.proto = "Simple";
  req.sizes = {1073741824.0};
  req.ranks = net.num_gpus();
  for (auto _ : state) {
    auto rows = cli::run_collective_sweep(req, net, **backend);
    if (!rows) throw std::runtime_error(rows.error().to_string());
    benchmark::DoNotOptimize(rows->front().busbw_GBps);
  }
  state.SetLabel(state.range(0) == 0 ? "analytical" : "simgrid");
  state.counters["GPUs"] = net.num_gpus();
}
void BM_RingAllReduceNvl72(benchmark::State& s) { collective(s, "topologies/gb200-nvl72.yaml", "ring"); }
void BM_RingAllReduce4Node(benchmark::State& s) { collective(s, "topologies/h100-ib400-4node.yaml", "ring"); }
void BM_HierAllReduce8Rack(benchmark::State& s) { collective(s, "topologies/gb200-nvl72-8rack.yaml", "hier"); }
BENCHMARK(BM_RingAllReduceNvl72)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RingAllReduce4Node)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HierAllReduce8Rack)->Arg(0)->Unit(benchmark::kMillisecond);
// 4,096 GPUs: the compact ring on both backends (SimGrid aggregated), hier analytically.
void BM_RingAllReduce512Node(benchmark::State& s) { collective(s, "topologies/h100-ib400-512node.yaml", "ring"); }
void BM_HierAllReduce512Node(benchmark::State& s) { collective(s, "topologies/h100-ib400-512node.yaml", "hier"); }
BENCHMARK(BM_RingAllReduce512Node)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_HierAllReduce512Node)->Arg(0)->Unit(benchmark::kMillisecond);

// All-to-all in all-pairs form (engine/all_pairs_cost.h), analytical: 1,024
// H100 (PXN relays on 8-GPU nodes) and 576 GB200 (72-GPU racks).
void BM_AllToAll128Node(benchmark::State& s) {
  collective(s, "topologies/h100-ib400-128node.yaml", "direct", collective::Op::kAllToAll);
}
void BM_AllToAll8Rack(benchmark::State& s) {
  collective(s, "topologies/gb200-nvl72-8rack.yaml", "direct", collective::Op::kAllToAll);
}
BENCHMARK(BM_AllToAll128Node)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AllToAll8Rack)->Arg(0)->Unit(benchmark::kMillisecond);

// Per-pair routing alone: every GPU to the same GPU of the next node (a
// cross-fabric route), on a fresh network each time (no cache).
void BM_CrossNodeRoutes512Node(benchmark::State& state) {
  const auto topo = load("topologies/h100-ib400-512node.yaml");
  for (auto _ : state) {
    const topology::Network net(topo);
    std::size_t hops = 0;
    for (int g = 0; g < net.num_gpus(); ++g) hops += net.route(g, (g + 8) % net.num_gpus()).size();
    benchmark::DoNotOptimize(hops);
  }
  state.counters["routes"] = 4096;
}
BENCHMARK(BM_CrossNodeRoutes512Node)->Unit(benchmark::kMillisecond);

// The step simulation alone (collectives costed once, outside the loop):
// Llama-3 405B on 576 GB200 GPUs, 1F1B over 64 micro-batches.
void BM_StepSimulation405B(benchmark::State& state) {
  auto spec = config::load_topology_file(source("topologies/gb200-nvl72-8rack.yaml"));
  if (!spec) throw std::runtime_error(spec.error().to_string());
  const auto topo = load("topologies/gb200-nvl72-8rack.yaml");
  const topology::Network net(topo);
  auto w = workload::load_workload_file(source("workloads/llama3-405b.yaml"));
  if (!w) throw std::runtime_error(w.error().to_string());
  // Kernels are timed on the topology's GPU model (as `collsim run` does).
  auto gpu = workload::resolve_gpu_model(*w, *spec);
  if (!gpu) throw std::runtime_error(gpu.error().to_string());
  auto graph = workload::compile_step(*w, net, *gpu);
  if (!graph) throw std::runtime_error(graph.error().to_string());
  auto backend = engine::make_backend("analytical");
  auto costs = workload::cost_calls(graph->calls, net, **backend, workload::CommChoice{});
  if (!costs) throw std::runtime_error(costs.error().to_string());
  for (auto _ : state) {
    const auto r = workload::simulate_step(*graph, *costs, net);
    benchmark::DoNotOptimize(r.step_time_s);
  }
  state.counters["operations"] = static_cast<double>(graph->ops.size());
}
BENCHMARK(BM_StepSimulation405B)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
