#include "sim/workload/step_graph.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "sim/workload/kernels.h"
#include "sim/workload/nearest_valid.h"

namespace collsim::workload {

const char* to_string(Group g) {
  switch (g) {
    case Group::kNone:
      return "none";
    case Group::kTp:
      return "tp";
    case Group::kCp:
      return "cp";
    case Group::kEp:
      return "ep";
    case Group::kPp:
      return "pp";
    case Group::kDp:
      return "dp";
  }
  return "?";
}

const char* to_string(Phase p) {
  switch (p) {
    case Phase::kForward:
      return "fwd";
    case Phase::kBackward:
      return "bwd";
    case Phase::kGradReduce:
      return "grad-reduce";
    case Phase::kOptimizer:
      return "optimizer";
    case Phase::kParamGather:
      return "param-gather";
  }
  return "?";
}

std::string StepGraph::label(int i) const {
  const StepOp& o = ops[i];
  std::string s = fmt::format("stage {} {}", o.stage, to_string(o.phase));
  if (o.layer >= 0) s += fmt::format(" layer {}", o.layer);
  if (o.micro >= 0) s += fmt::format(" mb {}", o.micro);
  if (o.kind == StepOp::Kind::kComm)
    s += fmt::format(" {} {}", to_string(o.group), o.what);
  else
    s += " " + o.what;
  return s;
}

namespace {

using collective::Op;

// One (forward or backward, chunk, micro-batch) item of a worker's pipeline schedule.
struct Item {
  bool forward;
  int chunk;  // global model chunk, 0 .. pp*v-1
  int micro;
};

// Megatron-LM's 1F1B and interleaved 1F1B orders for stage `s`.
std::vector<Item> pipeline_order(int s, int pp, int v, int m) {
  std::vector<Item> out;
  if (v == 1) {
    const int warmup = std::min(pp - s - 1, m);
    for (int i = 0; i < warmup; ++i) out.push_back({true, s, i});
    for (int i = 0; i < m - warmup; ++i) {
      out.push_back({true, s, warmup + i});
      out.push_back({false, s, i});
    }
    for (int i = m - warmup; i < m; ++i) out.push_back({false, s, i});
    return out;
  }
  const int total = m * v;
  auto virt = [&](int k, bool fwd) {
    const int in_group = k % (pp * v);
    int j = in_group / pp;
    if (!fwd) j = v - 1 - j;
    return j;
  };
  auto micro = [&](int k) { return (k / (pp * v)) * pp + k % pp; };
  const int warmup = std::min((pp - s - 1) * 2 + (v - 1) * pp, total);
  auto fwd = [&](int k) { return Item{true, s + virt(k, true) * pp, micro(k)}; };
  auto bwd = [&](int k) { return Item{false, s + virt(k, false) * pp, micro(k)}; };
  for (int k = 0; k < warmup; ++k) out.push_back(fwd(k));
  for (int i = 0; i < total - warmup; ++i) {
    out.push_back(fwd(warmup + i));
    out.push_back(bwd(i));
  }
  for (int k = total - warmup; k < total; ++k) out.push_back(bwd(k));
  return out;
}

class Compiler {
 public:
  Compiler(const WorkloadSpec& w, const topology::Network& net, const StepGpu& gpu) : w_(w), net_(net), gpu_(gpu) {}

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
  // ---- set-up: degrees, rank order, groups --------------------------------
  // "nearest valid pp: 2 or 4": the pipeline depths that would fill `gpus`
  // with whole replicas (dp left to the rest) and split the layers evenly.
  std::string pp_that_fits(int gpus) const {
    const auto& p = w_.parallel;
    const long long tp_cp = 1LL * p.tp * p.cp;
    if (gpus % tp_cp != 0) {
      return fmt::format("no pp fits: tp x cp = {} does not divide {} either", tp_cp, gpus);
    }
    const Nearest pp = nearest_where(p.pp, gpus / tp_cp, [&](long long v) {
      return (gpus / tp_cp) % v == 0 && w_.model.layers % (v * p.virtual_stages) == 0 &&
             (p.virtual_stages == 1 || v >= 2);
    });
    if (!pp.any()) return fmt::format("no pp splits the {} layers and divides {} / (tp x cp)", w_.model.layers, gpus);
    return fmt::format("nearest valid pp: {}", to_string(pp));
  }

  Status set_up() {
    const auto& p = w_.parallel;
    const int gpus = net_.num_gpus();
    g_.gpus = gpus;
    g_.tp = p.tp;
    g_.cp = p.cp;
    g_.pp = p.pp;
    g_.ep = p.ep;
    g_.virtual_stages = p.virtual_stages;
    const long long fixed = 1LL * p.tp * p.cp * p.pp;
    if (p.dp == 0) {
      if (gpus % fixed != 0) {
        return w_.error_at("parallelism.tp",
                           fmt::format("tp x cp x pp = {} x {} x {} = {} does not divide the topology's {} GPUs; {}",
                                       p.tp, p.cp, p.pp, fixed, gpus, pp_that_fits(gpus)));
      }
      g_.dp = static_cast<int>(gpus / fixed);
    } else {
      g_.dp = p.dp;
      if (fixed * p.dp != gpus) {
        const std::string fix = gpus % fixed == 0
                                    ? fmt::format("dp = {} uses them all (or leave dp out)", gpus / fixed)
                                    : fmt::format("no dp fits pp = {}; with dp left out, {}", p.pp, pp_that_fits(gpus));
        return w_.error_at("parallelism.dp",
                           fmt::format("tp x cp x pp x dp = {} x {} x {} x {} = {}, but the topology has {} GPUs; {}",
                                       p.tp, p.cp, p.pp, p.dp, fixed * p.dp, gpus, fix));
      }
    }
    if (g_.dp % p.ep != 0) {
      const int experts = w_.model.experts;
      const Nearest ep =
          nearest_where(p.ep, g_.dp, [&](long long v) { return g_.dp % v == 0 && (experts == 0 || experts % v == 0); });
      return w_.error_at("parallelism.ep",
                         fmt::format("ep ({}) must divide dp ({}); nearest valid ep: {}", p.ep, g_.dp, to_string(ep)));
    }
    const auto& b = w_.batch;
    if (b.global % (1LL * b.micro * g_.dp) != 0) {
      const long long step = 1LL * b.micro * g_.dp;
      return w_.error_at("batch.global",
                         fmt::format("the global batch ({}) must split into micro-batches of {} over dp = {} replicas "
                                     "(a multiple of {}); nearest valid batch.global: {}",
                                     b.global, b.micro, g_.dp, step, to_string(nearest_multiples(b.global, step))));
    }
    g_.micro_batches = b.global / (b.micro * g_.dp);
    if (p.virtual_stages > 1 && g_.micro_batches % p.pp != 0) {
      const long long step = 1LL * b.micro * g_.dp * p.pp;
      return w_.error_at("parallelism.virtual_stages",
                         fmt::format("interleaved 1F1B needs the micro-batches per replica ({}) to be a multiple of pp "
                                     "({}); nearest valid batch.global: {}",
                                     g_.micro_batches, p.pp, to_string(nearest_multiples(b.global, step))));
    }
    if (p.zero == 3) {
      return w_.error_at("parallelism.zero",
                         "ZeRO-3 (parameters gathered per layer) is not modelled yet: use 0, 1 or 2");
    }
    g_.counts = count_model(w_.model);

    // Rank order: the first dimension of `order` varies fastest.
    std::map<Dim, int> size{{Dim::kTp, p.tp}, {Dim::kCp, p.cp}, {Dim::kDp, g_.dp}, {Dim::kPp, p.pp}};
    std::map<Dim, int> stride;
    int st = 1;
    for (Dim d : p.order) {
      stride[d] = st;
      st *= size[d];
    }
    gpu_of_ = [stride](int t, int c, int d, int s) {
      return t * stride.at(Dim::kTp) + c * stride.at(Dim::kCp) + d * stride.at(Dim::kDp) + s * stride.at(Dim::kPp);
    };
    num_workers_ = p.pp * g_.dp;
    for (int s = 0; s < p.pp; ++s) {
      for (int d = 0; d < g_.dp; ++d) {
        std::vector<int> gs;
        for (int c = 0; c < p.cp; ++c)
          for (int t = 0; t < p.tp; ++t) gs.push_back(gpu_of_(t, c, d, s));
        g_.worker_gpus.push_back(gs);
        g_.worker_stage.push_back(s);
      }
    }
    // TP groups inside one NVLink domain unless allowed.
    if (!p.tp_across_domains && p.tp > 1) {
      for (int wk = 0; wk < num_workers_; ++wk) {
        for (int c = 0; c < p.cp; ++c) {
          const auto grp = tp_group(wk, c);
          const int dom = net_.nvlink_domain_of(grp.front());
          for (int gpu : grp) {
            if (net_.nvlink_domain_of(gpu) != dom) {
              return w_.error_at(
                  "parallelism.tp",
                  fmt::format("the TP group of {} GPUs from GPU {} spans more than one NVLink domain ({} and "
                              "{} are not on the same NVSwitch); make tp fit a domain, change "
                              "parallelism.order, or set tp_across_nvlink_domains: true",
                              grp.size(), grp.front(), net_.endpoints()[grp.front()], net_.endpoints()[gpu]));
            }
          }
        }
      }
    }
    g_.chunk_layers = chunk_layer_counts(w_.model, p);
    chunk_first_.assign(g_.chunk_layers.size() + 1, 0);
    for (std::size_t c = 0; c < g_.chunk_layers.size(); ++c) chunk_first_[c + 1] = chunk_first_[c] + g_.chunk_layers[c];
    // Per-GPU compute times of one micro-batch.
    const auto& cs = w_.compute;
    const auto& md = w_.model;
    const double tokens = 1.0 * b.micro * md.seq_len / (p.tp * p.cp);  // per GPU per micro-batch
    const double scores = 2.0 * md.seq_len * md.heads * md.head_dim;    // attention core, per token
    const double attn_flops = 2 * g_.counts.attention_params_per_layer + scores;
    const double dense_mlp_flops = g_.counts.dense_layer_flops_per_token - attn_flops;
    const double moe_mlp_flops = g_.counts.moe_layer_flops_per_token - attn_flops;
    const bool selective = cs.recompute == Recompute::kSelective;
    if (cs.by_kernel()) {
      rates_ = GpuRates{gpu_.gemm_flop_per_s, gpu_.attention_flop_per_s, gpu_.hbm_Bps, gpu_.sms,
                        w_.precision.compute == "fp8" || w_.precision.compute == "fp4"};
      if (!(rates_.gemm_flop_per_s > 0 && rates_.attention_flop_per_s > 0 && rates_.hbm_Bps > 0)) {
        return w_.error_at("compute",
                           "compute is timed per kernel but the GPU model's rates are unknown (resolve_gpu_model "
                           "first)");
      }
      const LayerCompute lc = layer_compute(w_, rates_);
      attn_ = {lc.attention.fwd_s, lc.attention.bwd_s + (selective ? lc.attention.recompute_s : 0)};
      mlp_ = {lc.mlp.fwd_s, lc.mlp.bwd_s};
      moe_mlp_ = {lc.moe.fwd_s, lc.moe.bwd_s};
      head_ = {lc.head.fwd_s, lc.head.bwd_s};
    } else if (cs.layer_forward_s > 0) {
      // Measured per layer: split between attention and MLP in proportion to FLOPs.
      const double share = attn_flops / g_.counts.dense_layer_flops_per_token;
      const double ratio = cs.layer_backward_s / cs.layer_forward_s;
      attn_ = {cs.layer_forward_s * share, cs.layer_forward_s * share * ratio};
      mlp_ = moe_mlp_ = {cs.layer_forward_s * (1 - share), cs.layer_forward_s * (1 - share) * ratio};
      if (selective) attn_.bwd += cs.layer_forward_s * scores / g_.counts.dense_layer_flops_per_token;
    } else {
      const double rate = cs.peak_flop_per_s * cs.mfu;
      attn_ = {attn_flops * tokens / rate, 2 * attn_flops * tokens / rate + (selective ? scores * tokens / rate : 0)};
      mlp_ = {dense_mlp_flops * tokens / rate, 2 * dense_mlp_flops * tokens / rate};
      moe_mlp_ = {moe_mlp_flops * tokens / rate, 2 * moe_mlp_flops * tokens / rate};
      head_ = {g_.counts.head_flops_per_token * tokens / rate, 2 * g_.counts.head_flops_per_token * tokens / rate};
    }
    // Activation sizes (nccl-tests size of each collective).
    const double act = w_.precision.activation_bytes;
    tp_bytes_ = 1.0 * b.micro * md.seq_len / p.cp * md.hidden * act;
    const int kv_heads_per_gpu = std::max(1, md.kv_heads / p.tp);
    cp_bytes_ = 1.0 * b.micro * md.seq_len * 2.0 * kv_heads_per_gpu * md.head_dim * act;
    pp_bytes_ = 1.0 * b.micro * md.seq_len / p.cp * md.hidden * act / p.tp;
    ep_bytes_ = 1.0 * b.micro * md.seq_len / (p.cp * p.tp) * md.top_k * md.hidden * act;
    return Ok{};
  }

  std::vector<int> tp_group(int wk, int c) const {
    const auto& gs = g_.worker_gpus[wk];
    return std::vector<int>(gs.begin() + c * g_.tp, gs.begin() + (c + 1) * g_.tp);
  }
  int stage_of(int wk) const { return g_.worker_stage[wk]; }
  int dp_of(int wk) const { return wk % g_.dp; }
  int worker_at(int stage, int d) const { return stage * g_.dp + d; }
  int coord_gpu(int wk, int t, int c) const { return g_.worker_gpus[wk][c * g_.tp + t]; }

  int call(Op op, std::vector<int> gpus, double bytes, Group group, int root = 0) {
    auto key = std::make_tuple(static_cast<int>(op), bytes, root, gpus);
    auto [it, inserted] = call_index_.try_emplace(key, static_cast<int>(g_.calls.size()));
    if (inserted) g_.calls.push_back(CommCall{op, std::move(gpus), bytes, root, group});
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
          o.calls.push_back(call(Op::kBroadcast, {coord_gpu(from, t, c), coord_gpu(to, t, c)}, pp_bytes_, Group::kPp));
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
    for (int layer = chunk_first_[chunk]; layer < chunk_first_[chunk + 1]; ++layer)
      layer_forward(wk, layer, micro, Phase::kForward);
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

  void gradient_reduction() {
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


      // Data-parallel groups: per TP rank, every (CP rank, replica) for dense
      // weights, every (CP rank, expert-parallel block) for an expert's weights.
      auto dp_groups = [&](bool expert) {
        std::vector<std::vector<int>> groups;
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
            groups.push_back(gs);
          }
        }
        return groups;
      };
      const auto dense_groups = dp_groups(false);
      const auto expert_groups = dp_groups(true);
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
      for (const Bucket& b : buckets) {
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
      if (zero_sharded) {
        for (const Bucket& b : buckets) dp_op(Phase::kParamGather, Op::kAllGather, b, optimizer, wb);
      }
    }
  }

  // The optimizer step of a stage whose GPUs hold these parameters: given,
  // or (per-kernel compute) memory-bound over the local shard, which the
  // distributed optimizer (ZeRO >= 1) splits over the data-parallel group.
  double optimizer_s(double dense, double expert) const {
    if (w_.compute.optimizer_s >= 0) return w_.compute.optimizer_s;
    if (!w_.compute.by_kernel()) return 0;
    if (w_.parallel.zero >= 1) {
      dense /= 1.0 * g_.dp * g_.cp;
      expert /= 1.0 * (g_.dp / g_.ep) * g_.cp;
    }
    return optimizer_time(dense + expert, rates_, w_.compute.kernels);
  }

  const WorkloadSpec& w_;
  const topology::Network& net_;
  const StepGpu& gpu_;
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
  std::map<std::tuple<int, double, int, std::vector<int>>, int> call_index_;
  std::map<std::tuple<int, int, int, int, int, int>, int> ep_ops_;
  std::map<std::tuple<bool, int, int, int>, int> pp_ops_;
  // Per worker: last operation on its compute stream, its last sends, a
  // pipeline receive waiting for the next operation, gradients ready.
  std::vector<int> last_, last_send_fwd_, last_send_bwd_, pending_recv_;
  std::vector<std::vector<std::pair<int, int>>> grads_ready_;  // (layer, op) in backward order

 public:
  void init_streams() {
    last_.assign(num_workers_, -1);
    last_send_fwd_.assign(num_workers_, -1);
    last_send_bwd_.assign(num_workers_, -1);
    pending_recv_.assign(num_workers_, -1);
    grads_ready_.assign(num_workers_, {});
  }
};

}  // namespace

Expected<StepGraph> compile_step(const WorkloadSpec& w, const topology::Network& network, const StepGpu& gpu) {
  Compiler c(w, network, gpu);
  return c.run();
}

}  // namespace collsim::workload
