// Compute per kernel, memory per stage, uneven pipelines and step
// validation. Oracles: closed forms (bytes / bandwidth, FLOPs / rate, the
// transformer's 2N + attention FLOPs per token), Korthikanti et al. 2022's
// activation-memory formulas (Table 2), hand counts, and published training
// steps (tests/validation/steps.yaml).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <numeric>
#include <random>

#include "sim/workload/kernels.h"
#include "sim/workload/memory.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/workload_spec.h"
#include "test_support.h"
#include "workload_support.h"

namespace collsim::workload {
namespace {

using collsim::testing::run_collsim;

using testing::load;

// GPT-3 175B's shape (Brown et al. 2020, Table 2.1), Megatron's 51,200 vocabulary.
const char* kGpt = R"(
name: gpt
model: {layers: 96, hidden: 12288, ffn_hidden: 49152, heads: 96, vocab: 51200, seq_len: 2048, mlp: gelu}
parallelism: {tp: 8, pp: 8, dp: 1}
batch: {global: 64, micro: 1}
)";

GpuRates h100() { return GpuRates{794.5e12, 794.5e12, 3.35e12, 132, false}; }

TEST(Kernels, MemoryBoundKernelTakesExactlyBytesOverBandwidth) {
  KernelParams p;
  p.kernel_overhead_s = 0;
  p.hbm_efficiency = 1;
  EXPECT_DOUBLE_EQ(memory_time(6.7e9, h100(), p), 6.7e9 / 3.35e12);
  p.hbm_efficiency = 0.5;
  p.kernel_overhead_s = 3e-6;
  EXPECT_DOUBLE_EQ(memory_time(6.7e9, h100(), p), 6.7e9 / (0.5 * 3.35e12) + 3e-6);
}

TEST(Kernels, GemmNeverBeatsTheMatmulCeilingAndReachesItWhenTilesFillWaves) {
  KernelParams p;
  p.kernel_overhead_s = 0;
  const GpuRates gpu = h100();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> dim(1, 40000);
  for (int i = 0; i < 2000; ++i) {
    const double m = dim(rng), n = dim(rng), k = dim(rng);
    const double eff = gemm_efficiency(m, n, k, gpu.sms, p);
    ASSERT_GT(eff, 0);
    ASSERT_LE(eff, 1);
    ASSERT_GE(gemm_time(m, n, k, gpu, p), 2 * m * n * k / gpu.gemm_flop_per_s * (1 - 1e-12));
  }
  // 132 SMs x one 128 x 256 tile each, two full waves: only the K term is left.
  const double m = 128 * 12, n = 256 * 22, k = 1 << 20;
  EXPECT_NEAR(gemm_efficiency(m, n, k, gpu.sms, p), k / (k + p.gemm_k_half), 1e-12);
  // One tile more than a wave leaves the second wave almost idle.
  EXPECT_NEAR(gemm_efficiency(128, 256 * 133, k, gpu.sms, p) / gemm_efficiency(128, 256 * 132, k, gpu.sms, p),
              133.0 / 264, 1e-12);
}

TEST(Kernels, LayerFlopsAreTwiceTheParametersPlusAttention) {
  // Forward FLOPs per token of one layer, summed over the TP ranks, equal
  // count_model's 2 x parameters + the causal attention scores (2 s q).
  for (const char* mlp : {"gelu", "swiglu"}) {
    for (int tp : {1, 8}) {
      WorkloadSpec w =
          load(kGpt, {std::string("model.mlp=") + mlp, "parallelism.tp=" + std::to_string(tp), "model.kv_heads=8"});
      const LayerCompute lc = layer_compute(w, h100());
      const ModelCounts c = count_model(w.model);
      const double tokens = 1.0 * w.batch.micro * w.model.seq_len;
      EXPECT_NEAR((lc.attention.flops_fwd + lc.mlp.flops_fwd) * tp / tokens, c.dense_layer_flops_per_token,
                  1e-9 * c.dense_layer_flops_per_token)
          << mlp << " tp " << tp;
      EXPECT_NEAR(lc.head.flops_fwd * tp / tokens, c.head_flops_per_token, 1e-9 * c.head_flops_per_token);
      // The breakdown by kernel kind adds up to the block's forward + backward.
      for (const BlockTime* b : {&lc.attention, &lc.mlp, &lc.head}) {
        double sum = 0;
        for (double x : b->by_kind) sum += x;
        EXPECT_NEAR(sum, b->fwd_s + b->bwd_s, 1e-12 * sum);
      }
    }
  }
}

TEST(Kernels, ComputeBoundLayerApproachesFlopsOverCeilingAndBackwardDoublesGemms) {
  WorkloadSpec w = load(kGpt, {"parallelism.tp=1", "compute.kernel_overhead=1ns"});
  w.compute.kernels.kernel_overhead_s = 0;
  w.compute.kernels.gemm_k_half = 0;
  GpuRates gpu = h100();
  gpu.hbm_Bps = 1e30;  // memory-bound kernels free
  gpu.sms = 0;         // no quantisation
  const LayerCompute lc = layer_compute(w, gpu);
  EXPECT_NEAR(lc.mlp.fwd_s, lc.mlp.flops_fwd / gpu.gemm_flop_per_s, 1e-12);
  EXPECT_NEAR(lc.mlp.bwd_s, 2 * lc.mlp.fwd_s, 1e-12);
  // The attention block: its GEMMs at the ceiling, the core at
  // attention_efficiency, backward 2.5x the core (FlashAttention-2).
  const double core = 0.5 * 4 * 2048.0 * 2048 * 96 * 128;
  const double gemms = lc.attention.flops_fwd - core;
  const double rate = w.compute.kernels.attention_efficiency * gpu.attention_flop_per_s;
  EXPECT_NEAR(lc.attention.fwd_s, gemms / gpu.gemm_flop_per_s + core / rate, 1e-12);
  EXPECT_NEAR(lc.attention.bwd_s, 2 * gemms / gpu.gemm_flop_per_s + 2.5 * core / rate, 1e-12);
  EXPECT_NEAR(lc.attention.recompute_s, core / rate, 1e-12);
}

// Korthikanti et al. 2022, Table 2 (2-byte activations, a = heads, t = tp):
//   no parallelism          s b h (34 + 5 a s / h)
//   tensor parallel         s b h (10 + 24/t + 5 a s / (h t))
//   tensor + sequence par.  s b h (34/t + 5 a s / (h t))
//   + selective recompute   s b h 34 / t
//   full recompute          2 s b h (/ t with sequence parallelism)
TEST(Memory, ActivationsPerLayerMatchKorthikantisFormulas) {
  const double s = 2048, b = 2, h = 12288, a = 96, t = 8;
  const double sbh = s * b * h;
  auto bytes = [&](std::vector<std::string> sets) {
    sets.push_back("batch.micro=2");
    sets.push_back("batch.global=64");
    sets.push_back("compute.attention=unfused");
    return layer_activation_bytes(load(kGpt, sets), 5);
  };
  EXPECT_DOUBLE_EQ(bytes({"parallelism.tp=1"}), sbh * (34 + 5 * a * s / h));
  EXPECT_DOUBLE_EQ(bytes({"parallelism.sequence_parallel=false"}), sbh * (10 + 24 / t + 5 * a * s / (h * t)));
  EXPECT_DOUBLE_EQ(bytes({}), sbh * (34 / t + 5 * a * s / (h * t)));
  EXPECT_DOUBLE_EQ(bytes({"compute.recompute=selective"}), sbh * 34 / t);
  EXPECT_DOUBLE_EQ(bytes({"compute.recompute=full"}), 2 * sbh / t);
  EXPECT_DOUBLE_EQ(bytes({"compute.recompute=full", "parallelism.sequence_parallel=false"}), 2 * sbh);
  // FlashAttention keeps no score matrix: the same as selective.
  EXPECT_DOUBLE_EQ(layer_activation_bytes(load(kGpt, {"batch.micro=2", "batch.global=64"}), 5), sbh * 34 / t);
}

TEST(Memory, StatesPerStageMatchAHandCount) {
  // 8 layers of 12 h^2 parameters on pp 2 x tp 2, dp 4; embedding on stage 0,
  // head on stage 1; bf16 weights and grads, 12-byte Adam states.
  const char* small = R"(
name: s
model: {layers: 8, hidden: 1024, ffn_hidden: 4096, heads: 8, vocab: 32000, seq_len: 1024, mlp: gelu}
parallelism: {tp: 2, pp: 2}
batch: {global: 32, micro: 1}
memory: {reserve: 1GiB}
)";
  const double h = 1024, layer = 12 * h * h, embed = 32000 * h;
  const double stage_params = (4 * layer + embed) / 2;  // per GPU (tp 2)
  for (int zero : {0, 1, 2, 3}) {
    const MemoryPlan plan = plan_memory(load(small, {"parallelism.zero=" + std::to_string(zero)}), 4, 80e9);
    ASSERT_EQ(plan.stages.size(), 2u);
    for (const auto& st : plan.stages) {
      // ZeRO-3 also holds two gathered layers (the largest: the one with
      // the embedding or head) and one layer's unreduced gradients.
      const double largest = (layer + embed) / 2;
      EXPECT_DOUBLE_EQ(st.weights, zero >= 3 ? (stage_params / 4 + 2 * largest) * 2 : stage_params * 2);
      // ZeRO-2 reduces after the last of the 8 micro-batches (as ZeRO-1):
      // until then every gradient is kept.
      EXPECT_DOUBLE_EQ(st.grads, zero >= 3 ? (stage_params / 4 + largest) * 2 : stage_params * 2);
      EXPECT_DOUBLE_EQ(st.optimizer, stage_params * 12 / (zero >= 1 ? 4 : 1));
      EXPECT_DOUBLE_EQ(st.reserve, 1024.0 * 1024 * 1024);
    }
    // 1F1B: stage 0 holds pp = 2 micro-batches of its 4 layers, stage 1 one.
    const WorkloadSpec w = load(small);
    EXPECT_EQ(plan.stages[0].in_flight, 2);
    EXPECT_DOUBLE_EQ(plan.stages[0].activations, 2 * 4 * layer_activation_bytes(w, 0));
    EXPECT_EQ(plan.stages[1].in_flight, 1);
    EXPECT_DOUBLE_EQ(plan.stages[1].logits, 1024.0 * 32000 / 2 * 4);  // fp32 logits of one micro-batch
  }
  // With one micro-batch a step there is nothing to accumulate: ZeRO-2
  // keeps a quarter of the gradients, ZeRO-1 all of them.
  for (int zero : {1, 2}) {
    const MemoryPlan plan =
        plan_memory(load(small, {"parallelism.zero=" + std::to_string(zero), "batch.global=4"}), 4, 80e9);
    for (const auto& st : plan.stages) EXPECT_DOUBLE_EQ(st.grads, stage_params * 2 / (zero == 2 ? 4 : 1));
  }
}

TEST(Memory, AConfigurationThatDoesNotFitIsRefusedWithWhatWouldFit) {
  const std::string base = testing::kGpt175bOutOfMemoryRun;
  const auto oom = run_collsim(base);
  EXPECT_EQ(oom.exit_code, 2) << oom.err;
  EXPECT_NE(oom.err.find("does not fit in memory: pipeline stage 0"), std::string::npos) << oom.err;
  EXPECT_NE(oom.err.find("it fits with compute.recompute=full (49.26 GiB), batch.micro=1"), std::string::npos)
      << oom.err;
  EXPECT_EQ(std::count(oom.err.begin(), oom.err.end(), '\n'), 1) << oom.err;
  // --memory: run_memory_test.cc.
  const auto anyway = run_collsim(base + " --memory-check off --json -");
  EXPECT_EQ(anyway.exit_code, 0) << anyway.err;
  EXPECT_NE(anyway.out.find("\"fits\":false"), std::string::npos) << anyway.out;
  // The table says so too, where it gives the share of the HBM.
  const auto table = run_collsim(base + " --memory-check off");
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("%: DOES NOT FIT)"), std::string::npos) << table.out;
}

// When no parallelism change helps, the error names the cause: a reserve
// larger than the HBM, or one micro-batch's activations (its sequence).
// Both were blamed on batch.micro, already 1.
TEST(Memory, WhatNoParallelismFixesIsBlamedOnItsCause) {
  const std::string dir = ::testing::TempDir();
  const std::string small = std::string(COLLSIM_SOURCE_DIR) + "/tests/data/workloads/small-4node.yaml";
  std::ifstream in(small);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir + "collsim_reserve.yaml") << text << "memory: {reserve: 100GiB}\n";
  std::string long_seq = text;
  long_seq.replace(long_seq.find("seq_len: 4096"), 13, "seq_len: 1000000000");
  std::ofstream(dir + "collsim_seq.yaml") << long_seq;
  for (const auto& [file, field] : std::vector<std::pair<std::string, std::string>>{
           {"collsim_reserve.yaml", "field 'memory.reserve': does not fit in memory"},
           {"collsim_seq.yaml", "field 'model.seq_len': does not fit in memory"}}) {
    const auto r = run_collsim("run -t topologies/h100-ib400-4node.yaml --backend analytical -w " + dir + file);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(field), std::string::npos) << r.err;
  }
  // Given with --set-workload: the flag is its place.
  const auto flag = run_collsim(
      "run -t topologies/h100-ib400-4node.yaml --backend analytical -w tests/data/workloads/small-4node.yaml "
      "--set-workload model.seq_len=1000000000");
  EXPECT_EQ(flag.exit_code, 2) << flag.err;
  EXPECT_NE(flag.err.find("--set-workload model.seq_len=1000000000: field 'model.seq_len'"), std::string::npos)
      << flag.err;
}

TEST(Pipeline, UnevenStagesSplitAsMegatronDoes) {
  ModelSpec m;
  m.layers = 126;
  ParallelSpec p;
  p.pp = 16;
  p.first_stage_layers = 7;
  p.last_stage_layers = 7;
  auto counts = chunk_layer_counts(m, p);
  ASSERT_EQ(counts.size(), 16u);
  EXPECT_EQ(counts.front(), 7);
  EXPECT_EQ(counts.back(), 7);
  for (int s = 1; s < 15; ++s) EXPECT_EQ(counts[s], 8);
  // With 4 virtual stages the model's first and last chunks lose the layer.
  p.virtual_stages = 4;
  counts = chunk_layer_counts(m, p);
  EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), 0), 126);
  EXPECT_EQ(counts.front(), 1);
  EXPECT_EQ(counts.back(), 1);
  EXPECT_EQ(counts[16], 2);  // stage 0's second chunk
}

TEST(Pipeline, UnevenStageErrorsNameTheField) {
  const char* y = R"(
name: u
model: {layers: 126, hidden: 1024, ffn_hidden: 4096, heads: 8, vocab: 32000, seq_len: 1024}
parallelism: {tp: 1, pp: 16, first_stage_layers: 6, last_stage_layers: 7}
batch: {global: 16, micro: 1}
)";
  auto w = load_workload_text(y, "u.yaml");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().field, "parallelism.last_stage_layers");
  EXPECT_NE(w.error().message.find("113 of the 126 layers"), std::string::npos) << w.error().message;
  auto v = load_workload_text(y, "u.yaml", {"parallelism.first_stage_layers=2", "parallelism.virtual_stages=4"});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().field, "parallelism.first_stage_layers");
}

TEST(Recompute, FullRecomputationRepeatsTheForwardsTensorParallelCollectives) {
  auto net = testing::shipped_network("hgx-h100.yaml");
  const char* y = R"(
name: r
model: {layers: 4, hidden: 1024, ffn_hidden: 4096, heads: 8, vocab: 32000, seq_len: 1024}
parallelism: {tp: 8, pp: 1}
batch: {global: 2, micro: 1}
compute: {layer_forward: 1ms, layer_backward: 2ms}
)";
  auto tp_ops = [&](const char* mode) {
    auto g = compile_step(load(y, {std::string("compute.recompute=") + mode}), net);
    EXPECT_TRUE(g.ok());
    int n = 0;
    for (const auto& op : g->ops) n += op.kind == StepOp::Kind::kComm && op.group == Group::kTp;
    return n;
  };
  // Forward 4 per layer (AG, RS twice), backward 4, recomputed forward 4 more.
  EXPECT_EQ(tp_ops("none"), 2 * 4 * 8);
  EXPECT_EQ(tp_ops("full"), 2 * 4 * 12);
}

TEST(StepErrors, PerKernelComputeNeedsAModelAndAPrecisionItHas) {
  const auto fp4 = run_collsim(
      "run -t topologies/h100-ib400-4node.yaml -w workloads/llama3-70b.yaml --what-if off --backend analytical "
      "--set-workload precision.compute=fp4");
  EXPECT_EQ(fp4.exit_code, 2) << fp4.err;
  EXPECT_NE(fp4.err.find("h100 GPUs have no fp4 rate"), std::string::npos) << fp4.err;
  // A topology whose GPUs name no model: per-kernel compute has no rates.
  const auto none = run_collsim(
      "run -t tests/data/topologies/two-gpus.yaml -w workloads/llama3-70b.yaml --set-workload parallelism.tp=1 "
      "--set-workload parallelism.pp=1 --set-workload batch.global=2 --what-if off --backend analytical");
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_NE(none.err.find("compute is timed per kernel from the GPU model"), std::string::npos) << none.err;
  // Kernel-model settings next to mfu would be silently unused.
  const auto unused = run_collsim(
      "run -t topologies/h100-ib400-4node.yaml -w workloads/llama3-70b.yaml --set-workload compute.mfu=0.4 "
      "--set-workload compute.kernel_overhead=5us");
  EXPECT_EQ(unused.exit_code, 2);
  EXPECT_NE(unused.err.find("field 'compute.kernel_overhead'"), std::string::npos) << unused.err;
  const auto tiny = run_collsim(
      "run -t topologies/h100-ib400-4node.yaml -w workloads/llama3-70b.yaml --set-workload "
      "compute.attention_efficiency=1e-300");
  EXPECT_EQ(tiny.exit_code, 2) << tiny.err;
  // --memory does not simulate: a report of the step cannot be written.
  const auto html =
      run_collsim("run -t topologies/h100-ib400-4node.yaml -w workloads/llama3-70b.yaml --memory --html /dev/null");
  EXPECT_EQ(html.exit_code, 2) << html.err;
  const auto stray = run_collsim("validate --set-workload compute.kernel_overhead=5us");
  EXPECT_EQ(stray.exit_code, 2) << stray.err;
  const auto mode =
      run_collsim("run -t topologies/hgx-h100.yaml -w workloads/llama3-70b.yaml --set-workload compute.recompute=some");
  EXPECT_EQ(mode.exit_code, 2);
  EXPECT_NE(mode.err.find("expected none, selective or full, found 'some'"), std::string::npos) << mode.err;
}

// A named algorithm runs only where an op has it: a step whose collectives
// are all-gathers, reduce-scatters and pipeline sends runs no NVLSTree, and
// `run --algo nvlstree` says so instead of reporting rings silently.
TEST(StepErrors, AnAlgorithmNoCollectiveRunsIsNamed) {
  const std::string base =
      "run -t topologies/h100-ib400-4node.yaml -w workloads/llama3-70b.yaml --backend analytical "
      "--what-if off --algo ";
  const auto none = run_collsim(base + "nvlstree");
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.err.find("--algo nvlstree: no collective of this step runs it (its ops: allgather, reducescatter, "
                          "send)"),
            std::string::npos)
      << none.err;
  const auto ring = run_collsim(base + "ring");
  ASSERT_EQ(ring.exit_code, 0) << ring.err;
  EXPECT_EQ(ring.err.find("no collective of this step runs it"), std::string::npos) << ring.err;
}

// The published steps the compute model was fitted to: every row within
// 10% and the mean within 5% (issue targets); held-out rows are printed, not
// asserted (docs/validation-steps.md reports them).
TEST(StepValidation, FittedPublishedStepsWithinTheirTargets) {
  const auto r = run_collsim("validate --steps --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double sum = 0;
  int n = 0;
  std::size_t at = 0;
  while ((at = r.out.find("\"fitted\":true", at)) != std::string::npos) {
    const auto e = r.out.find("\"error_pct\":", at);
    ASSERT_NE(e, std::string::npos);
    const double err = std::stod(r.out.substr(e + 12));
    EXPECT_LT(std::fabs(err), 10.0) << r.out.substr(r.out.rfind("\"name\"", at), 80);
    sum += std::fabs(err);
    ++n;
    at = e;
  }
  EXPECT_GE(n, 15);
  EXPECT_LT(sum / n, 5.0);
}

}  // namespace
}  // namespace collsim::workload

namespace collsim::workload {
namespace {

// ZeRO-3 (FSDP): every micro-batch gathers each layer's parameters in the
// forward and again in the backward, and reduce-scatters its gradients;
// the gather of the next layer runs while this one computes.
TEST(Zero3, GathersEachLayerTwicePerMicroBatchAndReducesItsGradientsOnce) {
  auto net = testing::shipped_network("hgx-h100.yaml");
  const char* y = R"(
name: z
model: {layers: 6, hidden: 1024, ffn_hidden: 4096, heads: 8, vocab: 32000, seq_len: 1024, mlp: gelu}
parallelism: {tp: 1, pp: 1, zero: 3}
batch: {global: 24, micro: 1}
compute: {layer_forward: 1ms, layer_backward: 2ms}
)";
  auto g = compile_step(load(y), net);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  const int micro = 24 / 8;
  int gathers = 0, reduces = 0;
  double gathered = 0;
  for (const auto& op : g->ops) {
    if (op.kind != StepOp::Kind::kComm || op.group != Group::kDp) continue;
    if (op.phase == Phase::kParamGather) {
      ++gathers;
      for (int c : op.calls) gathered += g->calls[c].bytes;
    }
    reduces += op.phase == Phase::kGradReduce;
  }
  EXPECT_EQ(gathers, 2 * 6 * micro);
  EXPECT_EQ(reduces, 6 * micro);
  // Bytes gathered = 2 x micro-batches x every parameter in bf16 (the
  // nccl-tests size of an all-gather is the gathered buffer).
  const ModelCounts c = count_model(load(y).model);
  EXPECT_NEAR(gathered, 2.0 * micro * c.total_params * 2, 1e-6 * gathered);
  // A layer's forward compute waits for its gather; the gather of the next
  // layer does not wait for this layer's compute (prefetch).
  int prefetched = 0;
  for (std::size_t i = 0; i < g->ops.size(); ++i) {
    const auto& op = g->ops[i];
    if (op.phase != Phase::kParamGather || op.layer <= 0) continue;
    bool after_previous_compute = false;
    for (int d : op.deps)
      after_previous_compute |= g->ops[d].kind == StepOp::Kind::kCompute && g->ops[d].layer == op.layer - 1 &&
                                g->ops[d].phase == Phase::kForward && g->ops[d].micro == op.micro;
    prefetched += !after_previous_compute;
  }
  EXPECT_GT(prefetched, 0);
}

}  // namespace
}  // namespace collsim::workload

namespace collsim::workload {
namespace {

// HBM bandwidth is a what-if like a link: doubling it speeds the step up by
// at most the share of compute that is memory-bound, and not at all when
// the GPU's HBM is already (nearly) infinitely fast.
TEST(WhatIf, HbmBandwidthIsAWhatIfBoundedByTheMemoryBoundShare) {
  auto delta = [](const std::string& extra) {
    const auto r = run_collsim(
        "run -t topologies/h100-ib400-4node.yaml -w workloads/llama3-70b.yaml "
        "--set-workload batch.global=8 --set-workload compute.recompute=full --backend analytical --json - " +
        extra);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto at = r.out.find("\"resource\":\"GPU HBM\"");
    EXPECT_NE(at, std::string::npos) << r.out;
    const auto d = r.out.find("\"delta_pct\":", at);
    return std::stod(r.out.substr(d + 12));
  };
  const double normal = delta("");
  EXPECT_LT(normal, -0.1);  // norms, activations, casts and the optimizer are memory-bound
  EXPECT_GT(normal, -50.0);
  EXPECT_GT(delta("--set 'gpu_models.h100.hbm_bandwidth=1000TB/s'"), -0.01);  // 300x H100's, collsim's largest rate
}

}  // namespace
}  // namespace collsim::workload

namespace collsim::workload {
namespace {

TEST(Reports, MemoryPerStageInTextJsonAndHtml) {
  const std::string base =
      "run -t topologies/h100-ib400-4node.yaml -w workloads/llama3-70b.yaml --set-workload batch.global=8 "
      "--backend analytical --what-if off";
  const auto text = run_collsim(base);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("memory per GPU  peak"), std::string::npos) << text.out;
  const auto json = run_collsim(base + " --json -");
  EXPECT_NE(json.out.find("\"memory\":{\"capacity_bytes\":85520809984"), std::string::npos) << json.out;
  const auto html = run_collsim(base + " --html -");
  const auto at = html.out.find("Memory per GPU, by pipeline stage");
  ASSERT_NE(at, std::string::npos);
  int rows = 0;
  for (auto p = html.out.find("<tr><td>", at); p != std::string::npos; p = html.out.find("<tr><td>", p + 1)) ++rows;
  EXPECT_EQ(rows, 4);  // pp 4
  EXPECT_NE(html.out.find("peak memory per GPU"), std::string::npos);
}

}  // namespace
}  // namespace collsim::workload

namespace collsim::workload {
namespace {

// Every shipped workload, and every shipped study's configuration, fits in
// the HBM of the topology it is shipped for (a study point that does not
// fit fails).
TEST(ShippedWorkloads, FitInTheirTopologiesMemory) {
  const std::vector<std::string> runs{
      "-t topologies/gb200-nvl72-8rack.yaml -w workloads/llama3-405b.yaml",
      "-t topologies/gb200-nvl72-8rack.yaml -w workloads/deepseek-v3.yaml",
      "-t topologies/h100-ib400-128node.yaml -w workloads/llama3-70b.yaml",
      "-t topologies/h100-ib400-128node.yaml -w workloads/gpt3-175b.yaml",
      "-t topologies/h100-ib400-16384node.yaml --set cluster.nodes=2048 -w workloads/llama3-405b-16k.yaml",
      // examples/studies/nvl36-vs-nvl72.yaml
      "-t topologies/gb200-nvl72-8rack.yaml -w workloads/llama3-405b.yaml --set cluster.domain_gpus=36 "
      "--set-workload parallelism.tp=4 --set-workload parallelism.dp=16 --set-workload compute.recompute=full",
  };
  for (const auto& args : runs) {
    const auto r = run_collsim("run --memory --json - " + args);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    EXPECT_NE(r.out.find("\"fits\":true"), std::string::npos) << args << ": " << r.out.substr(0, 200);
  }
}

}  // namespace
}  // namespace collsim::workload
