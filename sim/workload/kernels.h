// Compute per kernel: the time one GPU spends on one transformer layer (or
// the output head) for one micro-batch, from the layer's shapes and the
// GPU model (docs/workload-format.md, "How compute is timed").
//
// A layer is its kernels, each taking
//   max(FLOPs / achievable rate, bytes / (HBM bandwidth x hbm_efficiency))
//   + kernel_overhead
// where a GEMM's achievable rate is the GPU's measured matmul ceiling (MAMF)
// at the GEMM precision times its shape efficiency (gemm_efficiency below),
// and the attention core (FlashAttention, bf16) runs at attention_efficiency
// x the bf16 ceiling. Memory-bound kernels (norms, rotary, activation,
// bias-dropout-add, cross-entropy, FP8 casts, MoE permutation) move bytes at
// HBM bandwidth. Shapes are per GPU: TP splits the GEMMs' output (column
// parallel) or input (row parallel) dimension, sequence parallelism (SP)
// splits the tokens of the memory-bound kernels between GEMMs, CP splits
// the sequence.
//
// Units: seconds, FLOP, bytes, FLOP/s, bytes/s.
#pragma once

#include <string>

#include "sim/workload/workload_spec.h"

namespace collsim::workload {

// What the GPU offers a kernel (from config::GpuModelSpec).
struct GpuRates {
  double gemm_flop_per_s = 0;       // MAMF at the GEMM precision
  double attention_flop_per_s = 0;  // MAMF at bf16 (the attention core's precision)
  double hbm_Bps = 0;
  int sms = 0;       // streaming multiprocessors: one GEMM tile each per wave
  bool fp8 = false;  // GEMM inputs are cast to FP8 (casts are memory-bound kernels)
};

// Time of one kernel of each kind.
double gemm_time(double m, double n, double k, const GpuRates& gpu, const KernelParams& p);
double memory_time(double bytes, const GpuRates& gpu, const KernelParams& p);

// A GEMM's fraction of the matmul ceiling for shape M x N x K (output M x N,
// reduction K): tile quantisation (partial tiles compute a whole tile) x wave
// quantisation (the last wave of tiles leaves SMs idle) x K/(K + gemm_k_half)
// (each tile's fixed prologue and epilogue against its K loop). In (0, 1].
// Source of the mechanism: NVIDIA, "Matrix Multiplication Background User's
// Guide" (Deep Learning Performance docs), tile and wave quantisation.
double gemm_efficiency(double m, double n, double k, int sms, const KernelParams& p);

// Where a block's time goes, forward + backward (no recomputation).
enum KernelKind { kGemmKernels, kAttentionCore, kMemoryBound, kKernelOverhead, kKernelKinds };
const char* kernel_kind_name(int kind);  // "GEMMs", "attention core", "memory-bound", "kernel overhead"

// One block of a layer (attention or MLP), one micro-batch, one GPU.
struct BlockTime {
  double fwd_s = 0;
  double bwd_s = 0;        // gradients of inputs and weights (no recomputation)
  double recompute_s = 0;  // added to backward by the workload's recompute mode
  double flops_fwd = 0;    // hardware FLOPs of the forward (for tests and the report)
  double bytes_fwd = 0;    // memory-bound bytes of the forward
  int kernels_fwd = 0, kernels_bwd = 0;
  double by_kind[kKernelKinds] = {};  // seconds, forward + backward
};

struct LayerCompute {
  BlockTime attention;  // norm, QKV, rotary, attention core, output projection
  BlockTime mlp;        // bias-dropout-add, norm, MLP GEMMs, activation, bias-dropout-add
  BlockTime moe;        // the same with router, permutation and expert GEMMs
  BlockTime head;       // final norm, output head GEMM, cross-entropy
  double optimizer_bytes_per_param = 0;
};

// Per-GPU compute of one micro-batch. Preconditions: the workload passed
// load_workload_* (shapes positive, degrees dividing); gpu rates positive.
LayerCompute layer_compute(const WorkloadSpec& w, const GpuRates& gpu);

// Memory-bound optimizer step over `params` local parameters.
double optimizer_time(double params, const GpuRates& gpu, const KernelParams& p);

}  // namespace collsim::workload
