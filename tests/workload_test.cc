// Training-step workloads: reading, compiling, simulating and attributing.
// Oracles: published parameter counts, the 1F1B pipeline's closed form,
// the ring's 2(d-1)/d bytes, conservation of time, and SimGrid itself for
// concurrent collectives.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/collective/ring.h"
#include "sim/engine/backend.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/nearest_valid.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/step_sim.h"
#include "sim/workload/what_if.h"
#include "sim/workload/workload_spec.h"
#include "test_support.h"
#include "workload_support.h"

namespace collsim::workload {
namespace {

using collsim::testing::topology_from_file;
using testing::kSmall;
using testing::load;
using testing::load_error;
using testing::shipped_network;

std::vector<CommCost> free_network(const StepGraph& g) { return std::vector<CommCost>(g.calls.size()); }

// ---- model shapes against published parameter counts ---------------------

double params_of(const std::string& file) {
  auto w = load_workload_file(std::string(COLLSIM_SOURCE_DIR) + "/workloads/" + file);
  EXPECT_TRUE(w.ok()) << w.error().to_string();
  return w.ok() ? count_model(w->model).total_params : 0;
}

TEST(WorkloadModel, ShippedModelsMatchTheirPublishedParameterCounts) {
  // Meta: 70.6B and 405B (Llama 3 paper / model cards); OpenAI: 175B;
  // DeepSeek: 671B total (without the 14B multi-token-prediction module).
  EXPECT_NEAR(params_of("llama3-70b.yaml") / 70.6e9, 1.0, 0.01);
  EXPECT_NEAR(params_of("llama3-405b.yaml") / 405e9, 1.0, 0.01);
  EXPECT_NEAR(params_of("gpt3-175b.yaml") / 175e9, 1.0, 0.01);
  EXPECT_NEAR(params_of("deepseek-v3.yaml") / 671e9, 1.0, 0.02);
}

TEST(WorkloadModel, DeepSeekV3ActivatesAbout37BParametersPerToken) {
  auto w = load_workload_file(std::string(COLLSIM_SOURCE_DIR) + "/workloads/deepseek-v3.yaml");
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  EXPECT_NEAR(count_model(w->model).active_params / 37e9, 1.0, 0.06);
}

TEST(WorkloadModel, ForwardFlopsAreTwicePerParameterPlusCausalAttention) {
  const auto w = load(kSmall);
  const auto c = count_model(w.model);
  // 4 h^2 attention + 3 h f SwiGLU, and 2 s h for the causal scores.
  const double h = 1024, f = 4096, s = 2048;
  EXPECT_DOUBLE_EQ(c.dense_layer_flops_per_token, 2 * (4 * h * h + 3 * h * f) + 2 * s * h);
}

// ---- the pipeline against its closed form -------------------------------

TEST(WorkloadStep, WithAFreeNetworkTheStepIsAllLayersTimesMicroBatches) {
  const auto net = shipped_network("hgx-h100.yaml");
  auto w = load(kSmall, {"parallelism.dp=1", "parallelism.tp=8", "parallelism.sequence_parallel=false"});
  auto g = compile_step(w, net);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  const auto r = simulate_step(*g, free_network(*g), net);
  ASSERT_TRUE(r.complete);
  // 16 micro-batches x 8 layers x (1 + 2) ms.
  EXPECT_NEAR(r.step_time_s, 16 * 8 * 3e-3, 1e-12);
  EXPECT_NEAR(r.compute_s, r.step_time_s, 1e-12);
}

// 1F1B with free communication: (m + p - 1)(t_f + t_b) per stage (the
// pipeline bubble is (p - 1)(t_f + t_b)); interleaving with v chunks divides
// the bubble by v (Narayanan et al., SC'21, section 2.2).
TEST(WorkloadStep, PipelineMatchesTheOneFOneBClosedForm) {
  const auto net = shipped_network("hgx-h100.yaml");
  for (int pp : {2, 4, 8}) {
    for (int v : {1, 2}) {
      auto w = load(kSmall,
                    {"model.layers=16", "parallelism.pp=" + std::to_string(pp),
                     "parallelism.virtual_stages=" + std::to_string(v), "batch.global=" + std::to_string(8 * 8 / pp)});
      auto g = compile_step(w, net);
      ASSERT_TRUE(g.ok()) << g.error().to_string();
      const auto r = simulate_step(*g, free_network(*g), net);
      ASSERT_TRUE(r.complete) << "pp " << pp << " v " << v;
      const int m = g->micro_batches;
      const double chunk = 16.0 / (pp * v) * 3e-3;  // forward + backward of one chunk
      const double expected = m * v * chunk + (pp - 1) * chunk;
      EXPECT_NEAR(r.step_time_s, expected, 1e-9) << "pp " << pp << " v " << v << " m " << m;
      // Every GPU computes 1/pp of the work; the rest of the step is bubble.
      EXPECT_NEAR(r.compute_s, m * v * chunk, 1e-9);
      EXPECT_NEAR(r.bubble_s, (pp - 1) * chunk, 1e-9);
    }
  }
}

// ---- communication -------------------------------------------------------

struct Simulated {
  StepGraph graph;
  std::vector<CommCost> costs;
  StepResult result;
};

Simulated simulate(const std::string& topology, const WorkloadSpec& w, const std::string& algo = "auto") {
  const auto topo = topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/" + topology);
  const topology::Network net(topo);
  auto g = compile_step(w, net);
  EXPECT_TRUE(g.ok()) << g.error().to_string();
  auto backend = engine::make_backend("simgrid");
  CommChoice choice;
  choice.algorithm = algo;
  choice.protocol = "Simple";
  auto costs = cost_calls(g->calls, net, **backend, choice);
  EXPECT_TRUE(costs.ok()) << costs.error().to_string();
  auto r = simulate_step(*g, *costs, net);
  return Simulated{std::move(*g), std::move(*costs), std::move(r)};
}

TEST(WorkloadComm, DataParallelRingAllReduceSendsTwoDMinusOneOverDOfTheGradients) {
  // 8 GPUs, pure data parallelism, plain all-reduce (ZeRO-0), bf16 gradients.
  auto w = load(kSmall, {"parallelism.zero=0"});
  const auto s = simulate("hgx-h100.yaml", w, "ring");
  const double d = 8;
  const double grad_bytes = count_model(w.model).total_params * 2;
  const auto& bytes = [&] {
    double sum = 0;
    for (std::size_t i = 0; i < s.graph.ops.size(); ++i)
      for (int c : s.graph.ops[i].calls)
        if (s.graph.ops[i].group == Group::kDp) sum += s.costs[c].bytes_sent;
    return sum / 8;
  }();
  EXPECT_NEAR(bytes / (2 * (d - 1) / d * grad_bytes), 1.0, 1e-9);
}

// A pipeline stage hands its activations on with ncclSend/ncclRecv: one
// way (the bytes once, nothing back), NCCL's point-to-point protocols (LL or
// Simple, never LL128), and across nodes no faster than a 400G NIC moves
// them (47 GB/s: hardware.yaml nics.nccl_achievable_per_400G_nic).
TEST(WorkloadComm, PipelineSendsAreOneWayPointToPoint) {
  auto w = load(kSmall, {"parallelism.tp=8", "parallelism.pp=2"});
  const auto topo = topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml");
  const topology::Network net(topo);
  auto g = compile_step(w, net);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  auto backend = engine::make_backend("analytical");
  auto costs = cost_calls(g->calls, net, **backend, CommChoice{});
  ASSERT_TRUE(costs.ok()) << costs.error().to_string();
  int sends = 0, across = 0;
  for (const auto& op : g->ops) {
    if (op.group != Group::kPp) continue;
    for (int c : op.calls) {
      const CommCall& call = g->calls[static_cast<std::size_t>(c)];
      const CommCost& cost = (*costs)[static_cast<std::size_t>(c)];
      ASSERT_EQ(call.gpus.size(), 2u);
      EXPECT_EQ(call.op, collective::Op::kSendRecv);
      EXPECT_TRUE(call.one_way);
      EXPECT_NEAR(cost.bytes_sent, call.bytes, 1e-6 * call.bytes);
      EXPECT_NE(cost.proto, "LL128");
      if (net.nvlink_domain_of(call.gpus[0]) != net.nvlink_domain_of(call.gpus[1])) {
        EXPECT_GE(cost.time_s, call.bytes / 47e9);
        ++across;
      }
      ++sends;
    }
  }
  EXPECT_GT(sends, 0);
  EXPECT_GT(across, 0);  // tp = 8: each stage fills a node
  // Costed together, a one-way and a two-way sendrecv of the same GPUs and
  // bytes stay apart (their key holds the direction): n and 2n bytes.
  const auto first = std::find_if(g->calls.begin(), g->calls.end(), [](const CommCall& c) { return c.one_way; });
  ASSERT_NE(first, g->calls.end());
  const CommCall one = *first;
  CommCall both = one;
  both.one_way = false;
  auto pair = cost_calls({one, both}, net, **backend, CommChoice{});
  ASSERT_TRUE(pair.ok()) << pair.error().to_string();
  EXPECT_NEAR((*pair)[0].bytes_sent, one.bytes, 1e-6 * one.bytes);
  EXPECT_NEAR((*pair)[1].bytes_sent, 2 * one.bytes, 1e-6 * one.bytes);
}

TEST(WorkloadComm, ZeroOneReduceScattersGradientsAndAllGathersParameters) {
  auto w = load(kSmall, {"parallelism.zero=1", "precision.grads=fp32"});
  const auto s = simulate("hgx-h100.yaml", w, "ring");
  const double d = 8, params = count_model(w.model).total_params;
  double rs = 0, ag = 0;
  for (const auto& op : s.graph.ops) {
    for (int c : op.calls) {
      if (op.phase == Phase::kGradReduce) rs += s.costs[c].bytes_sent / 8;
      if (op.phase == Phase::kParamGather) ag += s.costs[c].bytes_sent / 8;
    }
  }
  EXPECT_NEAR(rs / ((d - 1) / d * params * 4), 1.0, 1e-9);  // fp32 gradients
  EXPECT_NEAR(ag / ((d - 1) / d * params * 2), 1.0, 1e-9);  // bf16 weights
}

TEST(WorkloadComm, WithoutOverlapEveryCommunicationIsExposed) {
  auto w = load(kSmall, {"communication.overlap_dp=false", "parallelism.zero=0"});
  const auto s = simulate("hgx-h100.yaml", w);
  double exposed = 0, comm = 0;
  for (int g = 0; g < kGroupCount; ++g) {
    exposed += s.result.exposed_s[g];
    comm += s.result.comm_s[g];
  }
  EXPECT_GT(comm, 0);
  EXPECT_NEAR(exposed, comm, 1e-12);
  // Nothing idles with one stage: compute + exposed = step.
  EXPECT_NEAR(s.result.compute_s + exposed, s.result.step_time_s, 1e-9);
  EXPECT_NEAR(s.result.bubble_s, 0, 1e-9);
}

TEST(WorkloadComm, OverlapHidesGradientReductionBehindBackward) {
  auto w = load(kSmall, {"parallelism.zero=0", "communication.dp_bucket=1MB"});
  const auto overlapped = simulate("hgx-h100.yaml", w);
  auto w2 = load(kSmall, {"parallelism.zero=0", "communication.dp_bucket=1MB", "communication.overlap_dp=false"});
  const auto serial = simulate("hgx-h100.yaml", w2);
  EXPECT_LT(overlapped.result.step_time_s, serial.result.step_time_s);
  EXPECT_LT(overlapped.result.exposed_s[static_cast<int>(Group::kDp)],
            serial.result.exposed_s[static_cast<int>(Group::kDp)]);
}

// A gradient bucket is reduced only after the last micro-batch's backward
// produced every gradient in it, on every replica: check every bucket of a
// pipelined, tensor-parallel, interleaved step against the simulated times.
TEST(WorkloadComm, NoGradientIsReducedBeforeBackwardProducedIt) {
  auto w = load(kSmall, {"parallelism.tp=2", "parallelism.pp=2", "parallelism.virtual_stages=2",
                         "communication.dp_bucket=10MB", "batch.global=8"});
  const auto s = simulate("hgx-h100.yaml", w);
  const int last = s.graph.micro_batches - 1;
  int buckets = 0;
  for (std::size_t i = 0; i < s.graph.ops.size(); ++i) {
    const auto& b = s.graph.ops[i];
    if (b.phase != Phase::kGradReduce) continue;
    ++buckets;
    for (std::size_t j = 0; j < s.graph.ops.size(); ++j) {
      const auto& o = s.graph.ops[j];
      if (o.kind == StepOp::Kind::kCompute && o.phase == Phase::kBackward && o.stage == b.stage && o.micro == last &&
          o.layer >= b.layer && o.layer < b.layer + b.layer_count) {
        EXPECT_LE(s.result.finish_s[j], s.result.start_s[i] + 1e-15) << s.graph.label(static_cast<int>(i));
      }
    }
  }
  EXPECT_GT(buckets, 4);
}

// ---- contention between concurrent collectives ---------------------------

// Two all-reduces over the same four GPUs (one per node) start together.
// SimGrid runs both schedules' flows at once; the step simulator shares
// the links between the two collectives. They must agree.
TEST(WorkloadContention, ConcurrentAllReducesShareLinksAsSimGridDoes) {
  const auto topo = topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml");
  const topology::Network net(topo);
  const std::vector<int> gpus{0, 8, 16, 24};
  for (double small : {1.0 * (1 << 30), 256.0 * (1 << 20)}) {
    StepGraph g;
    g.gpus = net.num_gpus();
    g.worker_gpus = {gpus};
    g.worker_stage = {0};
    g.calls = {CommCall{collective::Op::kAllReduce, gpus, 1.0 * (1 << 30), 0, Group::kDp},
               CommCall{collective::Op::kAllReduce, gpus, small, 0, Group::kDp}};
    for (int c = 0; c < 2; ++c) {
      StepOp o;
      o.kind = StepOp::Kind::kComm;
      o.group = Group::kDp;
      o.calls = {c};
      o.workers = {0};
      g.ops.push_back(o);
    }
    auto backend = engine::make_backend("simgrid");
    CommChoice choice;
    choice.algorithm = "ring";
    choice.protocol = "none";
    auto costs = cost_calls(g.calls, net, **backend, choice);
    ASSERT_TRUE(costs.ok()) << costs.error().to_string();
    const auto r = simulate_step(g, *costs, net);

    // SimGrid: the two schedules merged into one of 8 ranks on the same 4 GPUs.
    auto a = collective::expand(collective::ring_allreduce(4, 1.0 * (1 << 30)));
    const auto b = collective::expand(collective::ring_allreduce(4, small));
    const int offset = static_cast<int>(a.transfers.size());
    for (auto t : b.transfers) {
      t.src += 4;
      t.dst += 4;
      for (int& d : t.deps) d += offset;
      if (t.queue_after >= 0) t.queue_after += offset;
      a.transfers.push_back(t);
    }
    a.ranks = 8;
    engine::RunOptions options;
    options.rank_to_endpoint = {0, 8, 16, 24, 0, 8, 16, 24};
    auto both = (*backend)->run(net, {a}, options);
    ASSERT_TRUE(both.ok()) << both.error().to_string();
    EXPECT_NEAR(r.step_time_s / (*both)[0].time_s, 1.0, 0.03) << "small " << small;
    EXPECT_GT(r.max_slowdown, 1.5);
    // Conservation: the link bytes of the step are the two collectives' bytes.
    double link_bytes = 0, expected = 0;
    for (double x : r.link_bytes) link_bytes += x;
    for (const auto& c : *costs)
      for (auto [l, bytes] : c.link_bytes) expected += bytes;
    EXPECT_DOUBLE_EQ(link_bytes, expected);
  }
}

// ---- bottleneck attribution ----------------------------------------------

TEST(WorkloadWhatIf, NicStarvedClusterNamesTheNicFirst) {
  // 4 HGX nodes with their 400G NICs cut to 25 Gb/s; pure data parallelism
  // across nodes with TP 8 inside each node.
  auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml");
  ASSERT_TRUE(spec.ok());
  for (auto& l : spec->links)
    if (l.link_class == "infiniband") l.rate_Bps = 25e9 / 8;
  auto topo = topology::build_topology(*spec);
  ASSERT_TRUE(topo.ok());
  const topology::Network net(*topo);
  auto w = load(kSmall, {"parallelism.tp=8", "communication.overlap_dp=false", "compute.layer_forward=100us",
                         "compute.layer_backward=200us"});
  auto g = compile_step(w, net);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  auto backend = engine::make_backend("simgrid");
  auto costs = cost_calls(g->calls, net, **backend, CommChoice{});
  ASSERT_TRUE(costs.ok());
  const auto r = simulate_step(*g, *costs, net);
  auto what_ifs = run_what_ifs(*spec, *topo, *g, *costs, r, CommChoice{}, **backend);
  ASSERT_TRUE(what_ifs.ok()) << what_ifs.error().to_string();
  ASSERT_FALSE(what_ifs->empty());
  EXPECT_EQ(what_ifs->front().resource, "infiniband nic-switch");
  EXPECT_LT(what_ifs->front().delta_pct, -10);
  // Compute is measured per layer here and small: doubling it helps less.
  for (const auto& x : *what_ifs)
    if (x.resource == "GPU compute") {
      EXPECT_GT(x.delta_pct, what_ifs->front().delta_pct);
    }
  // The file's 32 NIC cables are 10 m each: a 10 m cut takes all of them to
  // 0 m, and says so (was: "10 m shorter" alone).
  const auto cables =
      std::find_if(what_ifs->begin(), what_ifs->end(), [](const auto& x) { return x.resource == "cables"; });
  ASSERT_NE(cables, what_ifs->end());
  EXPECT_EQ(cables->what_if, "every cable 10 m shorter (32 cables, 320 m less; 32 of them now 0 m long)");
}

// Data parallelism alone over 4 H100 nodes: NCCL's ring runs 2 channels per
// 400G NIC of one queue pair each, 2 x 23.5 GB/s < the NIC's 50 GB/s
// (collective/protocol.h ring_channel_net_GBps), so an 800G NIC buys nothing
// and a second queue pair per connection (a setting) does.
TEST(WorkloadComm, QueuePairsAreAWhatIfWhereTheyBind) {
  const auto r = collsim::testing::run_collsim(
      "run -t topologies/h100-ib400-4node.yaml -w tests/data/workloads/small-4node.yaml --backend analytical "
      "--set-workload parallelism.pp=1 --set-workload parallelism.tp=1 --set-workload batch.global=32");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto delta = [&](const std::string& what) {
    const auto at = r.out.find(what);
    EXPECT_NE(at, std::string::npos) << what << "\n" << r.out;
    if (at == std::string::npos) return 0.0;
    const auto line = r.out.rfind('\n', at) + 1;
    return std::stod(r.out.substr(line, r.out.find('%', line) - line));
  };
  EXPECT_LT(delta("NCCL queue pairs: 1 -> 2 per connection"), -2);
  EXPECT_GT(delta("infiniband nic-switch: 400 Gb/s -> 800 Gb/s"), -0.5);
  // The NIC and its PCIe hop are in series: each row says it raises its
  // class alone, and the scale-out path row raises both.
  EXPECT_NE(r.out.find("infiniband nic-switch: 400 Gb/s -> 800 Gb/s (this class alone)"), std::string::npos);
  EXPECT_NE(r.out.find("scale-out path: 2x the rate of infiniband nic-switch + pcie gpu-nic"), std::string::npos);
}

// ---- bad input -------------------------------------------------------------

// Expert weights are replicated over the dp/ep expert-parallel blocks and the
// CP ranks (each sees other tokens): their gradients reduce over both.
TEST(WorkloadComm, ExpertGradientsReduceOverBlocksAndContextRanks) {
  const auto net = shipped_network("hgx-h100.yaml");
  auto w = load(kSmall, {"model.experts=8", "model.top_k=2", "model.expert_ffn_hidden=1024", "parallelism.ep=2",
                         "parallelism.cp=2", "batch.global=16"});
  auto g = compile_step(w, net);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  // 8 GPUs = cp 2 x dp 4; ep 2 -> 2 blocks; expert groups: 2 blocks x 2 CP ranks = 4 GPUs.
  bool saw_expert_group = false;
  for (const auto& op : g->ops) {
    if (op.phase != Phase::kGradReduce) continue;
    for (int c : op.calls) {
      const auto n = g->calls[c].gpus.size();
      EXPECT_TRUE(n == 8 || n == 4) << n;
      saw_expert_group |= n == 4;
    }
  }
  EXPECT_TRUE(saw_expert_group);
}

// A stage's dense (72 ranks) and expert (9 ranks) reductions run as one
// operation, which ends with the slower: each collective's "as run" is its
// own time, so none can be slower than alone by more than the step's worst
// slowdown, nor faster than alone (the dense one took the expert one's
// time, 7.6x its own where the worst was 5.8x).
TEST(StepReport, EachCollectiveAsRunIsItsOwnTime) {
  const auto r = collsim::testing::run_collsim(
      "run -t topologies/gb200-nvl72-8rack.yaml -w workloads/deepseek-v3.yaml --what-if off --backend analytical "
      "--set-workload model.layers=4 --set-workload model.dense_layers=1 --set-workload batch.global=72 --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const YAML::Node j = YAML::Load(r.out);
  const double worst = j["max_contention_slowdown"].as<double>();
  EXPECT_GT(worst, 2.0);
  int dense = 0;
  for (const auto& c : j["collectives"]) {
    const double alone = c["time_alone_s"].as<double>(), as_run = c["time_mean_s"].as<double>();
    EXPECT_LE(as_run, worst * alone * (1 + 1e-9)) << c;
    EXPECT_GE(as_run, alone * (1 - 1e-9)) << c;
    if (c["group"].as<std::string>() == "dp" && c["ranks"].as<int>() == 72) ++dense;
  }
  EXPECT_GT(dense, 0);
}

}  // namespace
}  // namespace collsim::workload
