// Memory per GPU of each pipeline stage at its peak (docs/workload-format.md,
// "Memory"): weights, gradients and optimizer states by ZeRO stage,
// activations of the micro-batches in flight under the pipeline schedule by
// recompute mode, the output head's logits, and a framework reserve.
//
// Activations per layer and micro-batch follow Korthikanti et al. 2022
// ("Reducing Activation Recomputation in Large Transformer Models", section
// 4, Table 2), generalised to grouped-query attention, gated MLPs, context
// parallelism and FlashAttention (which keeps no s x s score matrix): with
// tensor parallelism t and no sequence parallelism a GPT layer keeps
// s b h (10 + 24/t + 5 a s / (h t)) bytes (2-byte activations), with
// sequence parallelism s b h (34/t + 5 a s / (h t)), with selective
// recomputation s b h 34 / t, and with full recomputation only its input.
// With FP8 GEMMs the GEMMs' saved inputs take one byte per element.
//
// Units: bytes.
#pragma once

#include <string>
#include <vector>

#include "sim/workload/workload_spec.h"

namespace collsim::workload {

struct StageMemory {
  int stage = 0;
  double weights = 0, grads = 0, optimizer = 0;
  double activations = 0;  // of the micro-batch chunks in flight at the stage's peak
  double logits = 0;       // the output head's fp32 logits (last stage)
  double reserve = 0;      // MemoryParams::reserve_bytes
  int in_flight = 0;       // micro-batch chunks whose activations are held at the peak
  double total() const { return weights + grads + optimizer + activations + logits + reserve; }
};

struct MemoryPlan {
  double capacity = 0;  // HBM per GPU; 0 = unknown
  std::vector<StageMemory> stages;
  int peak_stage = 0;  // the stage with the largest total
  const StageMemory& peak() const { return stages[peak_stage]; }
  bool fits() const { return capacity <= 0 || peak().total() <= capacity; }
};

// Activation bytes one layer keeps per micro-batch on one GPU until its
// backward (the whole layer's with no recomputation).
double layer_activation_bytes(const WorkloadSpec& w, int layer);

// `dp`: the data-parallel degree (from the GPU count). Preconditions: the
// workload passed load_workload_* and dp >= 1 divides as compile_step checks.
MemoryPlan plan_memory(const WorkloadSpec& w, int dp, double hbm_bytes);

// The configuration changes that make `w` fit (recompute, a higher ZeRO
// stage, a smaller micro-batch, a deeper pipeline), as --set-workload
// overrides with the peak each would reach: every single change that fits,
// else the first four pairs that do ("A and B"), else threes, ...; empty
// when even all of them together do not fit.
struct MemoryFix {
  std::string change;  // e.g. "compute.recompute=selective"
  double peak_bytes = 0;
};
// `tried` (when given) receives what could be changed at all, as words for
// a message ("recompute", "a higher ZeRO stage", "micro-batch 1", "twice
// the pipeline depth"): empty when every lever is already at its end.
std::vector<MemoryFix> memory_fixes(const WorkloadSpec& w, int dp, double hbm_bytes,
                                    std::vector<std::string>* tried = nullptr);

// The breakdown as text lines ("stage 0: weights 12.3 GiB, ..."): the
// peak first, then a line per pipeline stage with `every_stage` (`run
// --memory`) or up to 8 stages, else the first, the peak's and the last
// (the step report).
std::string memory_text(const MemoryPlan& plan, bool every_stage = false);

}  // namespace collsim::workload
