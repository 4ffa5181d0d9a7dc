// A training step compiled into a DAG of operations (docs/workload-format.md,
// "What one step does").
//
// A *worker* is the set of GPUs that run the same compute at the same time:
// one pipeline stage of one data-parallel replica, tp x cp GPUs. Each worker
// has one compute stream on which its compute kernels and its blocking
// collectives (TP, CP, EP) run in order; pipeline sends run on a stream per
// direction and gradient reductions on a data-parallel stream per stage, so
// they overlap with compute. A collective operation may consist of several
// calls (one per group, e.g. the tp x cp data-parallel groups of a stage)
// that run concurrently and finish together.
//
// The order of operations is the pipeline schedule's (1F1B, or Megatron-LM's
// interleaved 1F1B with virtual stages). A gradient bucket's reduction
// depends on the backward operation that produced its last gradient, on
// every worker of its stage: a gradient cannot be reduced before backward
// produced it, by construction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/collective/ops.h"
#include "sim/core/error.h"
#include "sim/topology/network.h"
#include "sim/workload/workload_spec.h"

namespace collsim::workload {

enum class Group : std::uint8_t { kNone, kTp, kCp, kEp, kPp, kDp };
inline constexpr int kGroupCount = 6;
const char* to_string(Group g);

enum class Phase : std::uint8_t { kForward, kBackward, kGradReduce, kOptimizer, kParamGather };
const char* to_string(Phase p);

// One collective on one group of GPUs (ranks 0..n-1 of the collective are
// gpus[0..n-1]).
struct CommCall {
  collective::Op op = collective::Op::kAllReduce;
  std::vector<int> gpus;
  double bytes = 0;  // the size nccl-tests prints for it
  int root = 0;
  Group group = Group::kNone;
  // sendrecv: gpus[0] sends to gpus[1] only (a pipeline stage's send, NCCL's
  // ncclSend/ncclRecv pair), not both ways as nccl-tests' sendrecv.
  bool one_way = false;
};

struct StepOp {
  enum class Kind : std::uint8_t { kCompute, kComm };
  Kind kind = Kind::kCompute;
  Group group = Group::kNone;  // comm only
  Phase phase = Phase::kForward;
  int stage = 0;
  int layer = -1;       // -1 when not about one layer; a gradient bucket: its lowest layer
  int layer_count = 1;  // a gradient bucket covers layers [layer, layer + layer_count)
  int micro = -1;
  double duration_s = 0;     // compute only
  std::vector<int> calls;    // comm only: indices into StepGraph::calls
  std::vector<int> deps;     // operations that must finish first
  std::vector<int> workers;  // whose GPUs this occupies (for the report)
  std::string what;          // short kind: "attention", "mlp", "head", "allgather", ...
};

struct StepGraph {
  int gpus = 0;
  int tp = 1, cp = 1, dp = 1, pp = 1, ep = 1, virtual_stages = 1, micro_batches = 1;
  std::vector<std::vector<int>> worker_gpus;  // worker -> its GPUs
  std::vector<int> worker_stage;
  std::vector<CommCall> calls;
  std::vector<StepOp> ops;
  ModelCounts counts;
  double params_per_gpu_max = 0;  // the largest stage's share, for the report
  std::vector<int> chunk_layers;  // layers per model chunk (chunk_layer_counts)
  // Per-kernel compute only: one layer's forward + backward for one
  // micro-batch on one GPU, by kernel kind (kernels.h KernelKind); empty otherwise.
  std::vector<double> layer_compute_by_kind;
  std::string label(int op) const;  // "stage 3 fwd layer 12 mb 5 attention"
};

// Every operation's dependents, in compressed form: those of op i are
// of[start[i] .. start[i + 1]), in operation order.
struct Dependents {
  std::vector<int> start, of;
};
Dependents dependents_of(const StepGraph& g);

// Compiles `w` for a cluster of `network.num_gpus()` GPUs, or for the GPUs
// of `placement` (rank -> GPU endpoint, topology::place) when not empty.
// Errors (with the workload file's positions): degrees that do not
// multiply to the GPU count, a global batch that does not split into
// micro-batches, a TP group that spans NVLink domains without
// tp_across_nvlink_domains.
// `gpu` (resolve_gpu_model) gives the rates when compute is timed per kernel.
Expected<StepGraph> compile_step(const WorkloadSpec& w, const topology::Network& network, const StepGpu& gpu = {},
                                 const std::vector<int>& placement = {});

}  // namespace collsim::workload
