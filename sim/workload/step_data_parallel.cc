// The step compiler's data parallelism (step_compiler.h): gradient buckets
// and their reduction, the optimizer step, and the parameter all-gather of
// the distributed optimizer.
#include <algorithm>

#include "sim/workload/step_compiler.h"

namespace collsim::workload::detail {

void Compiler::gradient_reduction() {
  const bool zero_sharded = w_.parallel.zero >= 1;
  const Op grad_op = zero_sharded ? Op::kReduceScatter : Op::kAllReduce;
  const double gb = w_.precision.grad_bytes, wb = w_.precision.weight_bytes;
  const int edp = g_.dp / g_.ep;
  for (int s = 0; s < g_.pp; ++s) {
    // Buckets in the order backward produces gradients (worker 0 of the
    // stage stands for all: every replica runs the same order).
    const int w0 = worker_at(s, 0);
    std::vector<Bucket> buckets;
    std::vector<int> bucket_of_entry;
    Bucket cur;
    int cur_chunk = -1;
    double max_params = 0, stage_dense = 0, stage_expert = 0;
    for (std::size_t e = 0; e < grads_ready_[w0].size(); ++e) {
      const int layer = grads_ready_[w0][e].first;
      const int chunk =
          static_cast<int>(std::upper_bound(chunk_first_.begin(), chunk_first_.end(), layer) - chunk_first_.begin());
      if (cur_chunk >= 0 && chunk != cur_chunk && !cur.layers.empty()) {
        buckets.push_back(cur);
        cur = Bucket{};
      }
      cur_chunk = chunk;
      auto [dense, expert] = layer_params(layer);
      max_params += dense + expert;
      stage_dense += dense;
      stage_expert += expert;
      cur.layers.push_back(static_cast<int>(e));
      cur.dense_params += dense;
      cur.expert_params += expert;
      if ((cur.dense_params + cur.expert_params) * gb >= w_.comm.dp_bucket_bytes) {
        buckets.push_back(cur);
        cur = Bucket{};
      }
    }
    if (!cur.layers.empty()) buckets.push_back(cur);
    g_.params_per_gpu_max = std::max(g_.params_per_gpu_max, max_params);

    const auto dense_groups = dp_groups(s, false);
    const auto expert_groups = dp_groups(s, true);
    std::vector<int> stage_workers;
    for (int d = 0; d < g_.dp; ++d) stage_workers.push_back(worker_at(s, d));

    int dp_last = -1;
    auto dp_op = [&](Phase ph, Op op, const Bucket& b, std::vector<int> deps, double bytes_per_param) {
      StepOp o;
      o.kind = StepOp::Kind::kComm;
      o.group = Group::kDp;
      o.phase = ph;
      o.stage = s;
      o.what = std::string(collective::op_name(op));
      o.workers = stage_workers;
      if (g_.dp * g_.cp > 1 && b.dense_params > 0)
        for (const auto& gs : dense_groups)
          o.calls.push_back(call(op, gs, b.dense_params * bytes_per_param, Group::kDp));
      if (edp * g_.cp > 1 && b.expert_params > 0)
        for (const auto& gs : expert_groups)
          o.calls.push_back(call(op, gs, b.expert_params * bytes_per_param, Group::kDp));
      if (o.calls.empty()) return;
      o.layer = grads_ready_[w0][b.layers.back()].first;  // backward produces layers high to low
      o.layer_count = static_cast<int>(b.layers.size());
      o.deps = std::move(deps);
      if (dp_last >= 0) o.deps.push_back(dp_last);
      dp_last = new_op(std::move(o));
    };
    const bool zero3 = w_.parallel.zero >= 3;  // gradients already reduce-scattered per layer
    if (zero3) dp_last = last_zero3_[2 * s + 1];
    for (const Bucket& b : zero3 ? std::vector<Bucket>{} : buckets) {
      std::vector<int> deps;
      for (int wk : stage_workers) {
        if (w_.comm.overlap_dp)
          deps.push_back(grads_ready_[wk][b.layers.back()].second);
        else
          deps.push_back(last_[wk]);
      }
      dp_op(Phase::kGradReduce, grad_op, b, deps, gb);
    }
    // Optimizer on every worker after its stage's reductions and its own work.
    std::vector<int> optimizer;
    for (int wk : stage_workers) {
      StepOp o;
      o.kind = StepOp::Kind::kCompute;
      o.phase = Phase::kOptimizer;
      o.stage = s;
      o.duration_s = optimizer_s(stage_dense, stage_expert);
      o.what = "optimizer";
      if (dp_last >= 0) o.deps.push_back(dp_last);
      optimizer.push_back(on_stream(wk, std::move(o)));
    }
    if (zero_sharded && !zero3) {  // ZeRO-3 gathers parameters per layer when they are used
      for (const Bucket& b : buckets) dp_op(Phase::kParamGather, Op::kAllGather, b, optimizer, wb);
    }
  }
}

const std::vector<std::vector<int>>& Compiler::dp_groups(int s, bool expert) {
  auto [it, inserted] = dp_groups_.try_emplace({s, expert});
  if (!inserted) return it->second;
  const int edp = g_.dp / g_.ep;
  for (int t = 0; t < g_.tp; ++t) {
    for (int e = 0; e < (expert ? g_.ep : 1); ++e) {
      std::vector<int> gs;
      for (int cc = 0; cc < g_.cp; ++cc) {
        if (!expert) {
          for (int d = 0; d < g_.dp; ++d) gs.push_back(coord_gpu(worker_at(s, d), t, cc));
        } else {
          for (int blk = 0; blk < edp; ++blk) gs.push_back(coord_gpu(worker_at(s, blk * g_.ep + e), t, cc));
        }
      }
      it->second.push_back(gs);
    }
  }
  return it->second;
}

int Compiler::zero3_op(int wk, int layer, int micro, int which) {
  const int s = stage_of(wk);
  auto [it, inserted] = zero3_ops_.try_emplace(std::make_tuple(s, layer, micro, which), -1);
  if (!inserted) {
    if (it->second >= 0) g_.ops[it->second].workers.push_back(wk);
    return it->second;
  }
  const bool gather = which < 2;
  const Op op = gather ? Op::kAllGather : Op::kReduceScatter;
  StepOp o;
  o.kind = StepOp::Kind::kComm;
  o.group = Group::kDp;
  o.phase = gather ? Phase::kParamGather : Phase::kGradReduce;
  o.stage = s;
  o.layer = layer;
  o.micro = micro;
  o.what = std::string(collective::op_name(op));
  o.workers = {wk};
  const double bytes_per_param = gather ? w_.precision.weight_bytes : w_.precision.grad_bytes;
  auto [dense, expert] = layer_params(layer);
  if (g_.dp * g_.cp > 1 && dense > 0)
    for (const auto& gs : dp_groups(s, false)) o.calls.push_back(call(op, gs, dense * bytes_per_param, Group::kDp));
  if ((g_.dp / g_.ep) * g_.cp > 1 && expert > 0)
    for (const auto& gs : dp_groups(s, true)) o.calls.push_back(call(op, gs, expert * bytes_per_param, Group::kDp));
  if (o.calls.empty()) return -1;
  // One stream per stage for gathers and one for reductions: each runs
  // after the previous one (the first worker to reach an op, worker 0 of
  // the stage, orders them; every worker runs the same order).
  int& prev = last_zero3_[2 * s + (gather ? 0 : 1)];
  if (prev >= 0) o.deps.push_back(prev);
  it->second = prev = new_op(std::move(o));
  return it->second;
}

void Compiler::need_params(int wk, int layer, int micro, bool forward, int next) {
  if (w_.parallel.zero < 3) return;
  const int which = forward ? 0 : 1;
  int id = prefetched_op_[wk];
  if (prefetched_[wk] != std::make_tuple(layer, micro, which)) {  // not issued ahead: gather now
    id = zero3_op(wk, layer, micro, which);
    if (id >= 0 && last_[wk] >= 0) g_.ops[id].deps.push_back(last_[wk]);
  }
  pending_params_[wk] = id;
  prefetched_[wk] = {-1, -1, -1};
  prefetched_op_[wk] = -1;
  if (next >= 0) {  // issued now: it runs while this layer computes
    const int nid = zero3_op(wk, next, micro, which);
    if (nid >= 0 && last_[wk] >= 0) g_.ops[nid].deps.push_back(last_[wk]);
    prefetched_[wk] = {next, micro, which};
    prefetched_op_[wk] = nid;
  }
}

void Compiler::reduce_grads(int wk, int layer, int micro) {
  if (w_.parallel.zero < 3) return;
  const int id = zero3_op(wk, layer, micro, 2);
  if (id >= 0) g_.ops[id].deps.push_back(last_[wk]);
}

// The optimizer step of a stage whose GPUs hold these parameters: given,
// or (per-kernel compute) memory-bound over the local shard, which the
// distributed optimizer (ZeRO >= 1) splits over the data-parallel group.
double Compiler::optimizer_s(double dense, double expert) const {
  if (w_.compute.optimizer_s >= 0) return w_.compute.optimizer_s;
  if (!w_.compute.by_kernel()) return 0;
  if (w_.parallel.zero >= 1) {
    dense /= 1.0 * g_.dp * g_.cp;
    expert /= 1.0 * (g_.dp / g_.ep) * g_.cp;
  }
  return optimizer_time(dense + expert, rates_, w_.compute.kernels);
}

}  // namespace collsim::workload::detail
