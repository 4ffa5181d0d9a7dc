// A training workload after parsing and validation (docs/workload-format.md):
// the model's shape, how it is parallelised, the batch, the precisions and
// how long compute takes. Plain data; SI units (bytes, seconds, FLOP/s).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/collective/protocol.h"
#include "sim/config/topology_spec.h"
#include "sim/core/error.h"

namespace collsim::workload {

enum class Mlp { kSwiGlu, kGelu };  // 3 or 2 weight matrices per MLP

struct ModelSpec {
  std::string name;
  int layers = 0;
  int hidden = 0;
  int ffn_hidden = 0;  // of a dense layer's MLP
  int heads = 0;
  int kv_heads = 0;  // grouped-query attention; = heads when not given
  int head_dim = 0;  // = hidden / heads when not given
  int vocab = 0;
  int seq_len = 0;
  Mlp mlp = Mlp::kSwiGlu;
  bool tied_embeddings = false;
  // Mixture of experts (experts == 0: dense). The first `dense_layers`
  // layers are dense; the others route each token to `top_k` of `experts`
  // experts (MLPs of `expert_ffn_hidden`) plus `shared_experts` always-on ones.
  int experts = 0;
  int top_k = 0;
  int expert_ffn_hidden = 0;
  int shared_experts = 0;
  int dense_layers = 0;
  double published_parameters = 0;  // optional, for the report's cross-check
};

// Rank order: which parallel dimension varies fastest with the GPU index.
enum class Dim { kTp, kCp, kDp, kPp };

struct ParallelSpec {
  int tp = 1, pp = 1, dp = 0 /* 0 = the rest of the GPUs */, cp = 1, ep = 1;
  bool sequence_parallel = true;  // TP with reduce-scatter/all-gather instead of all-reduce
  int virtual_stages = 1;         // interleaved 1F1B when > 1
  // Layers on the first and last pipeline stage when they differ from the
  // others (as Megatron-LM's --decoder-first/last-pipeline-num-layers); 0:
  // an even split. The other stages share the remaining layers evenly. With
  // virtual stages a stage's chunks differ by at most one layer, the model's
  // first and last chunks being the short ones (Megatron-LM itself requires
  // these counts to be multiples of virtual_stages; collsim does not, so
  // Llama 3's 7-layer end stages can be interleaved).
  int first_stage_layers = 0, last_stage_layers = 0;
  int zero = 1;  // 0: gradient all-reduce; 1, 2: RS + param AG; 3: + per-layer AG
  std::vector<Dim> order{Dim::kTp, Dim::kCp, Dim::kDp, Dim::kPp};  // innermost first
  bool tp_across_domains = false;                                  // allow a TP group to span NVLink domains
};

struct BatchSpec {
  int global = 0;  // sequences per step
  int micro = 1;   // sequences per micro-batch
};

struct PrecisionSpec {
  double weight_bytes = 2, grad_bytes = 2, activation_bytes = 2;
  std::string compute = "bf16";  // GEMM precision: whose peak the GPU model gives (config::gpu_precisions)
};

// How much of the forward pass the backward pass recomputes (Korthikanti et
// al. 2022, "Reducing Activation Recomputation in Large Transformer Models"):
// nothing, the attention core ("selective"), or every layer ("full": the
// layer's forward, with its TP collectives, runs again before its backward).
enum class Recompute { kNone, kSelective, kFull };
const char* to_string(Recompute r);

// Named defaults of the per-kernel compute model (kernels.h), each
// overridable in the workload's compute: section. Fitted values say which
// measurements they were fitted to (docs/validation-steps.md).
struct KernelParams {
  // Gap between dependent kernels on one stream: launch, prologue, tail.
  // ASSUMPTION, fitted (docs/validation.md).
  double kernel_overhead_s = 8e-6;
  // K at which a GEMM tile's fixed prologue and epilogue cost as much as its
  // K loop (gemm_efficiency). ASSUMPTION, fitted.
  double gemm_k_half = 192;
  // Output tile of one SM's GEMM work: 128 x 256 is the largest tile of
  // CUTLASS's Hopper and Blackwell kernels and of cuBLAS's heuristics for
  // large bf16 GEMMs (NVIDIA CUTLASS docs). ASSUMPTION for every GPU.
  int gemm_tile_m = 128, gemm_tile_n = 256;
  // FlashAttention's share of the bf16 matmul ceiling, forward and backward,
  // causal. ASSUMPTION, fitted: below what FlashAttention-2/3 reach on
  // long non-causal benchmarks (50-75% of peak: Dao 2023, Shah et al. 2024);
  // it also carries the context-parallel attention of the fitted rows.
  double attention_efficiency = 0.30;
  // Share of the HBM bandwidth a streaming kernel reaches. ASSUMPTION, fitted.
  double hbm_efficiency = 0.8;
  // Bytes moved per element cast to FP8 before a GEMM (read bf16, write fp8).
  double fp8_cast_bytes = 3;
  // Bytes an Adam step moves per local parameter: fp32 master weight, two
  // moments and gradient read (16), master and moments written (12), the
  // bf16 weight written (2), as Megatron-LM's distributed optimizer keeps them.
  double optimizer_bytes = 30;
};

// How the attention core runs: FlashAttention (one fused kernel, the
// causal half of the scores skipped) or unfused, as Megatron-LM ran it
// before FlashAttention (QK^T and AV as batched GEMMs over the full score
// matrix, with softmax and dropout as memory-bound kernels between them).
enum class AttentionKernel { kFlash, kUnfused };

struct ComputeSpec {
  // Three ways to time compute: per kernel from the GPU model (the
  // default: neither mfu nor layer times given), from FLOPs at peak x mfu
  // (an explicit override), or measured per layer. Peak 0: the topology's
  // GPU model's dense peak at precision.compute (resolve_gpu_model).
  double peak_flop_per_s = 0;
  double mfu = 0;
  double layer_forward_s = 0;  // measured, per micro-batch on one GPU; 0 = derive
  double layer_backward_s = 0;
  Recompute recompute = Recompute::kNone;
  AttentionKernel attention = AttentionKernel::kFlash;
  double optimizer_s = -1;  // the optimizer step after the gradients are reduced; < 0: derived (kernels) or 0
  KernelParams kernels;
  bool by_kernel() const { return mfu <= 0 && layer_forward_s <= 0; }
};

// Named defaults of the memory model (memory.h), overridable in the
// workload's memory: section.
struct MemorySpec {
  // Optimizer state per parameter: fp32 master weight and Adam's two fp32
  // moments (mixed-precision Adam: Rajbhandari et al. 2020, "ZeRO", section 3.1).
  double optimizer_state_bytes = 12;
  // HBM the model cannot use: CUDA context, NCCL and cuBLAS workspaces,
  // allocator fragmentation. ASSUMPTION (NOT FOUND as one published figure).
  double reserve_bytes = 4.0 * 1024 * 1024 * 1024;
};

struct CommSpec {
  std::string algorithm = "auto";  // for every collective; auto = fastest per collective
  std::string protocol = "auto";
  double dp_bucket_bytes = 80e6;  // Megatron-LM's default: 40M parameters x 2 bytes
  bool overlap_dp = true;         // gradient reduction overlaps the backward pass
  bool overlap_pp = true;         // pipeline sends run beside compute (false: the sender waits for them)
  // The NCCL release modelled (`nccl: 2.27`): its tuning tables (collective::NcclRelease).
  collective::NcclRelease nccl = collective::kDefaultNcclRelease;
};

struct WorkloadSpec {
  std::string name;
  std::string file;
  ModelSpec model;
  ParallelSpec parallel;
  BatchSpec batch;
  PrecisionSpec precision;
  ComputeSpec compute;
  CommSpec comm;
  MemorySpec memory;
  // Where each field was written ("parallelism.tp" -> file:line:col), for
  // errors found later against the topology (a degree that does not divide
  // the GPU count).
  std::map<std::string, SourceMark> marks;
  Error error_at(const std::string& field, std::string message) const;
};

// Derived model quantities (per whole model unless said otherwise).
struct ModelCounts {
  double attention_params_per_layer = 0;
  double dense_mlp_params_per_layer = 0;
  double expert_params_per_layer = 0;  // all routed experts of one MoE layer
  double shared_params_per_layer = 0;  // shared experts + router of one MoE layer
  double embedding_params = 0;         // input embedding + output head (once if tied)
  double total_params = 0;
  double active_params = 0;  // per token
  // Forward FLOPs per token: one layer (dense or MoE), and the output head.
  double dense_layer_flops_per_token = 0;
  double moe_layer_flops_per_token = 0;
  double head_flops_per_token = 0;
};
ModelCounts count_model(const ModelSpec& m);

// Model FLOPs per trained token, the numerator of MFU as PaLM defines it
// (Chowdhery et al. 2022, "PaLM", appendix B): 6 x the active parameters a
// token meets in matmuls (input embedding excluded: a lookup; output head
// included) + 12 x layers x heads x head_dim x seq_len for attention (the
// full score matrix, forward and backward; no causal halving, no
// recomputation). The same quantity NVIDIA's NeMo reports as model TFLOP/s.
double model_flops_per_token(const ModelSpec& m);

bool is_moe_layer(const ModelSpec& m, int layer);

// Parameters of one layer held by each GPU before any ZeRO sharding: dense
// (replicated over dp x cp; the input embedding on layer 0, the output head
// on the last layer unless tied) and expert (replicated over dp/ep x cp).
struct LayerParams {
  double dense = 0, expert = 0;
};
LayerParams layer_params_per_gpu(const ModelSpec& m, const ModelCounts& c, int layer, int tp, int ep);

// Layers of each of the pp x virtual_stages model chunks, in model order
// (chunk c runs on stage c % pp). Precondition: the split was checked
// (load_workload_* refuses one that does not divide).
std::vector<int> chunk_layer_counts(const ModelSpec& m, const ParallelSpec& p);

// Reads and validates a workload file (and --set overrides). Errors name
// file:line:column and the field.
Expected<WorkloadSpec> load_workload_file(const std::string& path, const std::vector<std::string>& overrides = {});
Expected<WorkloadSpec> load_workload_text(const std::string& text, const std::string& file,
                                          const std::vector<std::string>& overrides = {});

const char* to_string(Dim d);

// The GPUs a step runs on, from the topology: their model (all alike) and
// its dense peak at the workload's compute precision.
struct StepGpu {
  std::string model;                // empty: the topology names none
  double peak_flop_per_s = 0;       // 0: unknown
  bool peak_from_workload = false;  // compute.peak overrode the model's
  // What the per-kernel compute model needs (kernels.h); zero without a model.
  double gemm_flop_per_s = 0;       // matmul ceiling at precision.compute
  double attention_flop_per_s = 0;  // matmul ceiling at bf16
  double hbm_Bps = 0, hbm_bytes = 0;
  int sms = 0;
};
// Fills w.compute.peak_flop_per_s from the GPUs' model when the workload
// derives compute from FLOPs without a peak of its own, and returns the
// GPUs' model, peak (for MFU) and the rates the per-kernel compute model
// uses. A precision without a measured ceiling gets the bf16 ceiling's
// fraction of peak (ASSUMPTION, named in docs/workload-format.md). Errors
// (bad input): no model to take a needed peak or rate from, GPUs of
// different models, a precision the model lacks.
Expected<StepGpu> resolve_gpu_model(WorkloadSpec& w, const config::TopologySpec& topology);

// An algorithm name (auto, ring, tree, rhd, hier, nvls, nvlstree, collnetdirect, pat, direct) and an NCCL
// protocol (auto, LL, LL128, Simple, none); the error's field says which is wrong.
Status check_comm_choice(const std::string& algorithm, const std::string& protocol);

}  // namespace collsim::workload
