// Training-step workloads: reading, compiling, simulating and attributing.
// Oracles: published parameter counts, the 1F1B pipeline's closed form,
// the ring's 2(d-1)/d bytes, conservation of time, and SimGrid itself for
// concurrent collectives.
#include <gtest/gtest.h>

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

namespace collsim::workload {
namespace {

using collsim::testing::topology_from_file;

WorkloadSpec load(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  auto w = load_workload_text(yaml, "w.yaml", overrides);
  EXPECT_TRUE(w.ok()) << w.error().to_string();
  return *w;
}

Error load_error(const std::string& yaml) {
  auto w = load_workload_text(yaml, "w.yaml");
  EXPECT_FALSE(w.ok());
  return w.ok() ? Error{} : w.error();
}

// A small dense model with measured per-layer times (1 ms forward, 2 ms
// backward per micro-batch), so the compute schedule is known exactly.
const char* kSmall = R"(
name: small
model: {layers: 8, hidden: 1024, ffn_hidden: 4096, heads: 8, vocab: 32000, seq_len: 2048}
parallelism: {tp: 1, pp: 1}
batch: {global: 16, micro: 1}
compute: {layer_forward: 1ms, layer_backward: 2ms}
)";

topology::Network shipped_network(const std::string& file) {
  return topology::Network(topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/" + file));
}

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
}

// ---- bad input -------------------------------------------------------------

TEST(WorkloadErrors, ParallelDegreesMustDivideTheGpus) {
  const auto net = shipped_network("hgx-h100.yaml");
  std::string yaml = kSmall;
  yaml.replace(yaml.find("{tp: 1, pp: 1}"), 14, "{tp: 2, pp: 1, dp: 3}");
  auto g = compile_step(load(yaml), net);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().field, "parallelism.dp");
  EXPECT_NE(g.error().message.find("8 GPUs"), std::string::npos) << g.error().message;
  ASSERT_TRUE(g.error().where.has_value());
  EXPECT_EQ(g.error().where->line, 4);  // the dp: 3 in the file
  EXPECT_EQ(g.error().where->file, "w.yaml");
  // tp x pp = 2 divides the 8 GPUs: dp = 8 / 2 = 4 fits.
  EXPECT_NE(g.error().message.find("; dp = 4 uses them all (or leave dp out)"), std::string::npos) << g.error().message;
}

// The fix each degree error names, worked out by hand on kSmall (8 layers,
// 8 heads, seq_len 2048) and hgx-h100 (8 GPUs).
Error compile_error(const std::vector<std::string>& overrides) {
  const auto net = shipped_network("hgx-h100.yaml");
  auto g = compile_step(load(kSmall, overrides), net);
  EXPECT_FALSE(g.ok());
  return g.ok() ? Error{} : g.error();
}

TEST(WorkloadErrors, DegreesThatDoNotFillTheGpusNameTheNearestPipelineDepths) {
  // 24 layers, pp 3: 3 does not divide 8. Depths dividing 8 (and 24): 1, 2, 4, 8.
  auto e = compile_error({"model.layers=24", "parallelism.pp=3"});
  EXPECT_EQ(e.field, "parallelism.tp");
  EXPECT_NE(e.message.find("= 3 does not divide the topology's 8 GPUs; nearest valid pp: 2 or 4"), std::string::npos)
      << e.message;
  // dp given as 2: 3 x 2 = 6 GPUs, and no dp fills 8 with pp 3.
  e = compile_error({"model.layers=24", "parallelism.pp=3", "parallelism.dp=2"});
  EXPECT_EQ(e.field, "parallelism.dp");
  EXPECT_NE(e.message.find("; no dp fits pp = 3; with dp left out, nearest valid pp: 2 or 4"), std::string::npos)
      << e.message;
  // cp 3 (seq_len 2304 = 3 x 768): no depth helps, 3 does not divide 8.
  e = compile_error({"model.seq_len=2304", "parallelism.cp=3"});
  EXPECT_NE(e.message.find("; no pp fits: tp x cp = 3 does not divide 8 either"), std::string::npos) << e.message;
}

TEST(WorkloadErrors, ExpertParallelismThatDoesNotDivideDpNamesTheNearestEp) {
  // cp 2 on 8 GPUs: dp = 4. ep 8 divides the 8 experts, not dp; 4 divides both.
  const auto e = compile_error(
      {"model.experts=8", "model.top_k=2", "model.expert_ffn_hidden=1024", "parallelism.cp=2", "parallelism.ep=8"});
  EXPECT_EQ(e.field, "parallelism.ep");
  EXPECT_NE(e.message.find("ep (8) must divide dp (4); nearest valid ep: 4"), std::string::npos) << e.message;
}

TEST(WorkloadErrors, ModelDegreeErrorsNameTheNearestValidValues) {
  struct Case {
    std::vector<std::string> overrides;
    std::string field, tail;
  };
  const std::vector<Case> cases{
      // 8 heads: divisors 1, 2, 4, 8 around tp 3.
      {{"parallelism.tp=3"}, "parallelism.tp", "tp (3) must divide the attention heads (8); nearest valid tp: 2 or 4"},
      // 8 layers: depths 1, 2, 4, 8 around pp 3.
      {{"parallelism.pp=3"}, "parallelism.pp", "pipeline chunks; nearest valid pp: 2 or 4"},
      // pp 2: 8 layers / 2 = 4 chunks per stage to interleave: 1, 2 or 4 around 3.
      {{"parallelism.pp=2", "parallelism.virtual_stages=3"},
       "parallelism.virtual_stages",
       "pipeline chunks; nearest valid virtual_stages: 2 or 4"},
      // seq_len 2048 = 2^11: cp 2 or 4 around 3.
      {{"parallelism.cp=3", "parallelism.sequence_parallel=false"},
       "parallelism.cp",
       "cp (3) must divide seq_len (2048); nearest valid cp: 2 or 4"},
      // 12 experts: divisors 4 and 6 around 5.
      {{"model.experts=12", "model.top_k=2", "model.expert_ffn_hidden=1024", "parallelism.ep=5"},
       "parallelism.ep",
       "ep (5) must divide the experts (12); nearest valid ep: 4 or 6"},
      // dp 6 and 8 experts: ep must divide both; 2 is the largest below 4, none above up to 6.
      {{"model.experts=8", "model.top_k=2", "model.expert_ffn_hidden=1024", "parallelism.ep=4", "parallelism.dp=6"},
       "parallelism.ep",
       "data-parallel dimension; nearest valid ep: 2"},
  };
  for (const auto& c : cases) {
    auto w = load_workload_text(kSmall, "w.yaml", c.overrides);
    ASSERT_FALSE(w.ok()) << c.tail;
    EXPECT_EQ(w.error().field, c.field) << w.error().to_string();
    EXPECT_NE(w.error().message.find(c.tail), std::string::npos) << w.error().message;
  }
}

TEST(NearestValid, MultiplesAndSearchesAroundARefusedValue) {
  auto n = nearest_multiples(512, 18);  // 18 x 28 = 504 < 512 < 522 = 18 x 29
  EXPECT_EQ(n.below, 504);
  EXPECT_EQ(n.above, 522);
  EXPECT_EQ(to_string(n), "504 or 522");
  n = nearest_multiples(512, 4096);  // no positive multiple below
  EXPECT_FALSE(n.below.has_value());
  EXPECT_EQ(to_string(n), "4096");
  n = nearest_where(8, 4, [](long long v) { return 4 % v == 0; });  // 4 below, nothing up to 4 above
  EXPECT_EQ(to_string(n), "4");
  n = nearest_where(5, 3, [](long long v) { return v == 7; });
  EXPECT_FALSE(n.any());
  EXPECT_EQ(to_string(n), "");
}

TEST(WorkloadErrors, LayersMustSplitIntoPipelineStages) {
  auto e = load_workload_text(kSmall, "w.yaml", {"parallelism.pp=3"});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "parallelism.pp");
  EXPECT_NE(e.error().message.find("layers (8)"), std::string::npos) << e.error().message;
}

TEST(WorkloadErrors, TensorParallelGroupMustStayInsideAnNvlinkDomain) {
  const auto net = shipped_network("h100-ib400-4node.yaml");
  auto w = load(kSmall, {"parallelism.tp=8", "parallelism.order=[dp, tp, pp]"});
  auto g = compile_step(w, net);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().field, "parallelism.tp");
  EXPECT_NE(g.error().message.find("NVLink domain"), std::string::npos) << g.error().message;
  auto allowed =
      load(kSmall, {"parallelism.tp=8", "parallelism.order=[dp, tp, pp]", "parallelism.tp_across_nvlink_domains=true"});
  EXPECT_TRUE(compile_step(allowed, net).ok());
}

TEST(WorkloadErrors, InterleavingNeedsAPipeline) {
  auto e = load_workload_text(kSmall, "w.yaml", {"parallelism.virtual_stages=2"});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "parallelism.virtual_stages");
}

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

TEST(WorkloadErrors, GlobalBatchMustSplitIntoMicroBatches) {
  const auto net = shipped_network("hgx-h100.yaml");
  auto w = load(kSmall, {"batch.global=12"});
  auto g = compile_step(w, net);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().field, "batch.global");
  // dp = 8 replicas of micro-batches of 1: multiples of 8 around 12.
  EXPECT_NE(g.error().message.find("(a multiple of 8); nearest valid batch.global: 8 or 16"), std::string::npos)
      << g.error().message;
  // Below the first multiple only the one above is named.
  g = compile_step(load(kSmall, {"batch.global=5"}), net);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("nearest valid batch.global: 8"), std::string::npos) << g.error().message;
  EXPECT_EQ(g.error().message.find(" or "), std::string::npos) << g.error().message;
  // Interleaving: pp 2 x virtual_stages 2 on 8 GPUs leaves dp = 4; 12 sequences
  // give 3 micro-batches per replica, not a multiple of pp. Valid batches are
  // multiples of micro x dp x pp = 8.
  g = compile_step(load(kSmall, {"parallelism.pp=2", "parallelism.virtual_stages=2", "batch.global=12"}), net);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().field, "parallelism.virtual_stages");
  EXPECT_NE(g.error().message.find("multiple of pp (2); nearest valid batch.global: 8 or 16"), std::string::npos)
      << g.error().message;
}

TEST(WorkloadErrors, UnknownKeysGetADidYouMean) {
  const auto e = load_error(R"(
name: x
model: {layers: 8, hidden: 1024, ffn_hiden: 4096, heads: 8, vocab: 32000, seq_len: 2048}
parallelism: {tp: 1}
batch: {global: 16}
compute: {layer_forward: 1ms, layer_backward: 2ms}
)");
  EXPECT_NE(e.message.find("ffn_hidden"), std::string::npos) << e.message;
  ASSERT_TRUE(e.where.has_value());
  EXPECT_EQ(e.where->line, 3);
}

TEST(WorkloadErrors, ComputeNeedsUnitsAndOneWayOfTiming) {
  auto e = load_workload_text(kSmall, "w.yaml", {"compute.layer_forward=1"});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "compute.layer_forward");
  EXPECT_NE(e.error().message.find("no unit"), std::string::npos) << e.error().message;
  auto both = load_workload_text(kSmall, "w.yaml", {"compute.peak=989TFLOP/s", "compute.mfu=0.4"});
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("at most one of mfu"), std::string::npos) << both.error().message;
}

TEST(WorkloadErrors, UnknownAlgorithmOrProtocolIsAnError) {
  auto a = load_workload_text(kSmall, "w.yaml", {"communication.algorithm=rign"});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().field, "communication.algorithm");
  auto p = load_workload_text(kSmall, "w.yaml", {"communication.protocol=LL256"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().field, "communication.protocol");
  // Protocol names in any case, as `collsim collective --proto` takes them.
  EXPECT_TRUE(load_workload_text(kSmall, "w.yaml", {"communication.protocol=simple"}).ok());
  EXPECT_TRUE(load_workload_text(kSmall, "w.yaml", {"communication.algorithm=fastest"}).ok());
}

TEST(WorkloadErrors, ExpertParallelismNeedsExperts) {
  auto e = load_workload_text(kSmall, "w.yaml", {"parallelism.ep=2"});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "parallelism.ep");
}

}  // namespace
}  // namespace collsim::workload
