// Internal to sim/workload: the compiler behind compile_step (step_graph.h),
// shared by step_graph.cc (pipeline schedule, layers, pipeline sends),
// step_setup.cc (degrees, rank order, groups, compute times) and
// step_data_parallel.cc (gradient reduction, optimizer, ZeRO). Not a public
// interface: include step_graph.h instead.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/workload/kernels.h"
#include "sim/workload/step_graph.h"

namespace collsim::workload::detail {

using collective::Op;

// One (forward or backward, chunk, micro-batch) item of a worker's pipeline schedule.
struct Item {
  bool forward;
  int chunk;  // global model chunk, 0 .. pp*v-1
  int micro;
};

// Megatron-LM's 1F1B and interleaved 1F1B orders for stage `s` of `pp`,
// with `v` virtual stages and `m` micro-batches (step_graph.cc).
std::vector<Item> pipeline_order(int s, int pp, int v, int m);

class Compiler {
 public:
  Compiler(const WorkloadSpec& w, const topology::Network& net, const StepGpu& gpu, const std::vector<int>& placement)
      : w_(w), net_(net), gpu_(gpu), placement_(placement) {}

  Expected<StepGraph> run() {
    if (auto s = set_up(); !s) return s.error();
    init_streams();
    for (int wk = 0; wk < num_workers_; ++wk) {
      const int s = g_.worker_stage[wk];
      for (const Item& it : pipeline_order(s, g_.pp, g_.virtual_stages, g_.micro_batches)) {
        if (it.forward)
          forward(wk, it.chunk, it.micro);
        else
          backward(wk, it.chunk, it.micro);
      }
    }
    gradient_reduction();
    return std::move(g_);
  }

 private:
  // The pipeline depths that would fill `gpus` as text, and whether any does.
  struct PipelineFit {
    std::string text;
    bool found = false;
    // The field to change where no depth fits: parallelism.ep where only
    // its rule (dp a multiple of ep) leaves none, else parallelism.tp.
    const char* field = "parallelism.tp";
  };
  PipelineFit pp_that_fits(int gpus) const;  // step_setup.cc

  Status set_up();  // step_setup.cc

  std::vector<int> tp_group(int wk, int c) const {
    const auto& gs = g_.worker_gpus[wk];
    return std::vector<int>(gs.begin() + c * g_.tp, gs.begin() + (c + 1) * g_.tp);
  }
  int stage_of(int wk) const { return g_.worker_stage[wk]; }
  int dp_of(int wk) const { return wk % g_.dp; }
  int worker_at(int stage, int d) const { return stage * g_.dp + d; }
  int coord_gpu(int wk, int t, int c) const { return g_.worker_gpus[wk][c * g_.tp + t]; }

  int call(Op op, std::vector<int> gpus, double bytes, Group group, int root = 0) {
    // A pipeline send is a one-way sendrecv (CommCall::one_way).
    const bool one_way = op == Op::kSendRecv && group == Group::kPp;
    auto key = std::make_tuple(static_cast<int>(op), bytes, root, gpus, one_way);
    auto [it, inserted] = call_index_.try_emplace(key, static_cast<int>(g_.calls.size()));
    if (inserted) g_.calls.push_back(CommCall{op, std::move(gpus), bytes, root, group, one_way});
    return it->second;
  }

  int new_op(StepOp op) {
    g_.ops.push_back(std::move(op));
    return static_cast<int>(g_.ops.size()) - 1;
  }

  // Appends `op` to worker wk's compute stream (after its previous operation).
  int on_stream(int wk, StepOp op) {
    if (last_[wk] >= 0) op.deps.push_back(last_[wk]);
    consume_receive(wk, op.deps);
    op.workers = {wk};
    const int id = new_op(std::move(op));
    last_[wk] = id;
    return id;
  }

  int compute(int wk, Phase ph, int layer, int micro, double seconds, const char* what) {
    StepOp o;
    o.kind = StepOp::Kind::kCompute;
    o.phase = ph;
    o.stage = stage_of(wk);
    o.layer = layer;
    o.micro = micro;
    o.duration_s = seconds;
    o.what = what;
    return on_stream(wk, std::move(o));
  }

  // A blocking collective over each of the worker's tp (or cp) groups.
  void worker_comm(int wk, Phase ph, int layer, int micro, Group group, Op op, double bytes) {
    StepOp o;
    o.kind = StepOp::Kind::kComm;
    o.group = group;
    o.phase = ph;
    o.stage = stage_of(wk);
    o.layer = layer;
    o.micro = micro;
    o.what = std::string(collective::op_name(op));
    if (group == Group::kTp) {
      for (int c = 0; c < g_.cp; ++c) o.calls.push_back(call(op, tp_group(wk, c), bytes, group));
    } else {  // CP: one group per TP rank
      for (int t = 0; t < g_.tp; ++t) {
        std::vector<int> gs;
        for (int c = 0; c < g_.cp; ++c) gs.push_back(coord_gpu(wk, t, c));
        o.calls.push_back(call(op, gs, bytes, group));
      }
    }
    on_stream(wk, std::move(o));
  }

  // The all-to-all of an EP group: one operation shared by the ep workers of
  // the group, on each one's compute stream.
  void expert_alltoall(int wk, Phase ph, int layer, int micro, int which) {
    const int d = dp_of(wk), s = stage_of(wk), block = d / g_.ep;
    auto key = std::make_tuple(s, block, layer, micro, static_cast<int>(ph), which);
    auto it = ep_ops_.find(key);
    int id;
    if (it == ep_ops_.end()) {
      StepOp o;
      o.kind = StepOp::Kind::kComm;
      o.group = Group::kEp;
      o.phase = ph;
      o.stage = s;
      o.layer = layer;
      o.micro = micro;
      o.what = "alltoall";
      for (int c = 0; c < g_.cp; ++c) {
        for (int t = 0; t < g_.tp; ++t) {
          std::vector<int> gs;
          for (int e = 0; e < g_.ep; ++e) gs.push_back(coord_gpu(worker_at(s, block * g_.ep + e), t, c));
          o.calls.push_back(call(Op::kAllToAll, gs, ep_bytes_, Group::kEp));
        }
      }
      id = new_op(std::move(o));
      ep_ops_[key] = id;
    } else {
      id = it->second;
    }
    if (last_[wk] >= 0) g_.ops[id].deps.push_back(last_[wk]);
    consume_receive(wk, g_.ops[id].deps);
    g_.ops[id].workers.push_back(wk);
    last_[wk] = id;
  }

  // The pipeline send of (chunk, micro) in a direction, created by whichever
  // side reaches it first; the sender adds its dependencies.
  int pp_send(bool forward, int from_chunk, int micro, int d) {
    auto key = std::make_tuple(forward, from_chunk, micro, d);
    auto [it, inserted] = pp_ops_.try_emplace(key, -1);
    if (inserted) {
      const int nchunks = g_.pp * g_.virtual_stages;
      const int to_chunk = forward ? from_chunk + 1 : from_chunk - 1;
      const int from = worker_at(from_chunk % g_.pp, d), to = worker_at((to_chunk + nchunks) % nchunks % g_.pp, d);
      StepOp o;
      o.kind = StepOp::Kind::kComm;
      o.group = Group::kPp;
      o.phase = forward ? Phase::kForward : Phase::kBackward;
      o.stage = from_chunk % g_.pp;
      o.micro = micro;
      o.what = "send";
      o.workers = {to};  // the receiver is the side that waits
      for (int c = 0; c < g_.cp; ++c)
        for (int t = 0; t < g_.tp; ++t)
          o.calls.push_back(call(Op::kSendRecv, {coord_gpu(from, t, c), coord_gpu(to, t, c)}, pp_bytes_, Group::kPp));
      it->second = new_op(std::move(o));
    }
    return it->second;
  }

  void send_from(int wk, bool forward, int chunk, int micro) {
    const int id = pp_send(forward, chunk, micro, dp_of(wk));
    g_.ops[id].deps.push_back(last_[wk]);
    auto& prev = forward ? last_send_fwd_[wk] : last_send_bwd_[wk];
    if (prev >= 0) g_.ops[id].deps.push_back(prev);  // FIFO on the connection
    prev = id;
    // Without overlap the sender waits for its send (Megatron-LM before
    // --overlap-p2p-communication: batched isend/irecv, then a wait).
    if (!w_.comm.overlap_pp) last_[wk] = id;
  }

  void receive(int wk, bool forward, int chunk, int micro) {
    const int id = pp_send(forward, forward ? chunk - 1 : chunk + 1, micro, dp_of(wk));
    pending_recv_[wk] = id;
  }

  // The next operation on a worker's stream waits for its pipeline receive.
  void consume_receive(int wk, std::vector<int>& deps) {
    if (pending_recv_[wk] >= 0) {
      deps.push_back(pending_recv_[wk]);
      pending_recv_[wk] = -1;
    }
    if (pending_params_[wk] >= 0) {  // ZeRO-3: the layer's gathered parameters
      deps.push_back(pending_params_[wk]);
      pending_params_[wk] = -1;
    }
  }

  bool moe(int layer) const { return is_moe_layer(w_.model, layer); }
  bool sp() const { return w_.parallel.sequence_parallel; }

  void tp_before(int wk, Phase ph, int layer, int micro) {
    if (g_.tp > 1 && sp()) worker_comm(wk, ph, layer, micro, Group::kTp, Op::kAllGather, tp_bytes_);
  }
  void tp_after(int wk, Phase ph, int layer, int micro) {
    if (g_.tp > 1) worker_comm(wk, ph, layer, micro, Group::kTp, sp() ? Op::kReduceScatter : Op::kAllReduce, tp_bytes_);
  }

  // One layer's forward on worker wk's stream (in backward: a full recomputation).
  void layer_forward(int wk, int layer, int micro, Phase ph) {
    if (g_.cp > 1) worker_comm(wk, ph, layer, micro, Group::kCp, Op::kAllGather, cp_bytes_);
    tp_before(wk, ph, layer, micro);
    compute(wk, ph, layer, micro, attn_.fwd, ph == Phase::kForward ? "attention" : "recompute attention");
    tp_after(wk, ph, layer, micro);
    tp_before(wk, ph, layer, micro);
    if (moe(layer) && g_.ep > 1) expert_alltoall(wk, ph, layer, micro, ph == Phase::kForward ? 0 : 2);
    const bool fwd = ph == Phase::kForward;
    compute(wk, ph, layer, micro, moe(layer) ? moe_mlp_.fwd : mlp_.fwd,
            moe(layer) ? (fwd ? "experts" : "recompute experts") : (fwd ? "mlp" : "recompute mlp"));
    if (moe(layer) && g_.ep > 1) expert_alltoall(wk, ph, layer, micro, fwd ? 1 : 3);
    tp_after(wk, ph, layer, micro);
  }

  void forward(int wk, int chunk, int micro) {
    const int nchunks = g_.pp * g_.virtual_stages;
    if (chunk > 0) receive(wk, true, chunk, micro);
    for (int layer = chunk_first_[chunk]; layer < chunk_first_[chunk + 1]; ++layer) {
      need_params(wk, layer, micro, true, layer + 1 < chunk_first_[chunk + 1] ? layer + 1 : -1);
      layer_forward(wk, layer, micro, Phase::kForward);
    }
    if (chunk == nchunks - 1) {
      if (head_.fwd > 0) compute(wk, Phase::kForward, -1, micro, head_.fwd, "head");
    } else {
      send_from(wk, true, chunk, micro);
    }
  }

  void backward(int wk, int chunk, int micro) {
    const int nchunks = g_.pp * g_.virtual_stages;
    const bool last_micro = micro == g_.micro_batches - 1;
    if (chunk < nchunks - 1) receive(wk, false, chunk, micro);
    if (chunk == nchunks - 1 && head_.bwd > 0) compute(wk, Phase::kBackward, -1, micro, head_.bwd, "head");
    for (int layer = chunk_first_[chunk + 1] - 1; layer >= chunk_first_[chunk]; --layer) {
      const Phase ph = Phase::kBackward;
      need_params(wk, layer, micro, false, layer > chunk_first_[chunk] ? layer - 1 : -1);
      if (w_.compute.recompute == Recompute::kFull) layer_forward(wk, layer, micro, ph);
      tp_before(wk, ph, layer, micro);
      if (moe(layer) && g_.ep > 1) expert_alltoall(wk, ph, layer, micro, 1);
      compute(wk, ph, layer, micro, moe(layer) ? moe_mlp_.bwd : mlp_.bwd, moe(layer) ? "experts" : "mlp");
      if (moe(layer) && g_.ep > 1) expert_alltoall(wk, ph, layer, micro, 0);
      tp_after(wk, ph, layer, micro);
      tp_before(wk, ph, layer, micro);
      compute(wk, ph, layer, micro, attn_.bwd, "attention");
      tp_after(wk, ph, layer, micro);
      if (g_.cp > 1) worker_comm(wk, ph, layer, micro, Group::kCp, Op::kReduceScatter, cp_bytes_);
      if (last_micro) grads_ready_[wk].push_back({layer, last_[wk]});
      reduce_grads(wk, layer, micro);
    }
    if (chunk > 0) send_from(wk, false, chunk, micro);
  }

  // ---- data parallelism: buckets, optimizer, parameter all-gather -----------
  struct Bucket {
    std::vector<int> layers;
    double dense_params = 0, expert_params = 0;  // per GPU
  };

  std::pair<double, double> layer_params(int layer) const {
    const LayerParams p = layer_params_per_gpu(w_.model, g_.counts, layer, g_.tp, g_.ep);
    return {p.dense, p.expert};
  }

  void gradient_reduction();  // step_data_parallel.cc

  // ---- ZeRO-3 (step_data_parallel.cc) --------------------------------------
  // Data-parallel groups of stage s: per TP rank, every (CP rank, replica)
  // for dense weights, every (CP rank, expert-parallel block) for experts'.
  const std::vector<std::vector<int>>& dp_groups(int s, bool expert);
  // The all-gather of a layer's parameters (which 0: forward, 1: backward)
  // or reduce-scatter of its gradients (2) for one micro-batch, shared by
  // the stage's workers; -1 when there is no data parallelism.
  int zero3_op(int wk, int layer, int micro, int which);
  // Before layer `layer` runs on wk: its parameters gathered (issued ahead
  // while the previous layer ran), and the gather of `next` (-1: none) issued.
  void need_params(int wk, int layer, int micro, bool forward, int next);
  // After a layer's backward on wk: its gradients reduce-scattered.
  void reduce_grads(int wk, int layer, int micro);

  double optimizer_s(double dense, double expert) const;  // step_data_parallel.cc

  const WorkloadSpec& w_;
  const topology::Network& net_;
  const StepGpu& gpu_;
  const std::vector<int>& placement_;  // rank -> GPU (compile_step); empty: rank r on GPU r
  StepGraph g_;
  std::function<int(int, int, int, int)> gpu_of_;
  int num_workers_ = 0;
  std::vector<int> chunk_first_;  // chunk c holds layers [chunk_first_[c], chunk_first_[c + 1])
  struct FwdBwd {
    double fwd = 0, bwd = 0;  // seconds per micro-batch on one GPU
  };
  FwdBwd attn_, mlp_, moe_mlp_, head_;
  GpuRates rates_;
  double tp_bytes_ = 0, cp_bytes_ = 0, pp_bytes_ = 0, ep_bytes_ = 0;
  std::map<std::tuple<int, double, int, std::vector<int>, bool>, int> call_index_;
  std::map<std::tuple<int, int, int, int, int, int>, int> ep_ops_;
  std::map<std::tuple<bool, int, int, int>, int> pp_ops_;
  // Per worker: last operation on its compute stream, its last sends, a
  // pipeline receive waiting for the next operation, gradients ready.
  std::vector<int> last_, last_send_fwd_, last_send_bwd_, pending_recv_;
  // ZeRO-3 per worker: the gather the next layer waits for, the gather
  // issued ahead (its key and op), the last gradient reduce-scatter.
  std::vector<int> pending_params_, prefetched_op_, last_reduce_;
  std::vector<std::tuple<int, int, int>> prefetched_;
  std::map<std::tuple<int, int, int, int>, int> zero3_ops_;  // (stage, layer, micro, which) -> op
  std::map<std::pair<int, bool>, std::vector<std::vector<int>>> dp_groups_;
  std::vector<int> last_zero3_;  // per stage and kind (gather, reduce): FIFO on its stream
  std::vector<std::vector<std::pair<int, int>>> grads_ready_;  // (layer, op) in backward order

 public:
  void init_streams() {
    last_.assign(num_workers_, -1);
    last_send_fwd_.assign(num_workers_, -1);
    last_send_bwd_.assign(num_workers_, -1);
    pending_recv_.assign(num_workers_, -1);
    pending_params_.assign(num_workers_, -1);
    prefetched_op_.assign(num_workers_, -1);
    last_reduce_.assign(num_workers_, -1);
    prefetched_.assign(num_workers_, {-1, -1, -1});
    last_zero3_.assign(2 * g_.pp, -1);
    grads_ready_.assign(num_workers_, {});
  }
};

}  // namespace collsim::workload::detail
