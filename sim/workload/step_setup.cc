// The step compiler's set-up (step_compiler.h): degrees checked against
// the GPU count, rank order, worker groups, and the per-GPU compute time of
// each block of a layer.
#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "sim/units/units.h"
#include "sim/workload/nearest_valid.h"
#include "sim/workload/step_compiler.h"

namespace collsim::workload::detail {

// ---- set-up: degrees, rank order, groups --------------------------------
// "nearest valid pp: 2 or 4": the pipeline depths that would fill `gpus`
// with whole replicas (dp left to the rest) and split the layers evenly.
Compiler::PipelineFit Compiler::pp_that_fits(int gpus) const {
  const auto& p = w_.parallel;
  const long long tp_cp = 1LL * p.tp * p.cp;
  if (gpus % tp_cp != 0) {
    return {fmt::format("no pp fits: tp x cp = {} does not divide {} either", tp_cp, gpus)};
  }
  // The layers split as the workload asks at depth v (split_stages, as the
  // workload's own check); uneven first or last stages need a pipeline.
  const bool uneven = p.first_stage_layers > 0 || p.last_stage_layers > 0;
  auto layers_split = [&](long long v) {
    return (!uneven || v >= 2) &&
           split_stages(w_.model.layers, v, p.virtual_stages, p.first_stage_layers, p.last_stage_layers).even;
  };
  // dp = gpus / (tp x cp x pp) must be a multiple of ep (set_up's next rule).
  auto fits = [&](long long v, int ep) {
    return (gpus / tp_cp) % v == 0 && (gpus / tp_cp / v) % ep == 0 && layers_split(v) &&
           (p.virtual_stages == 1 || v >= 2);
  };
  const Nearest pp = nearest_where(p.pp, gpus / tp_cp, [&](long long v) { return fits(v, p.ep); });
  const std::string with_ep = p.ep > 1 ? fmt::format(" with dp a multiple of ep ({})", p.ep) : "";
  if (!pp.any()) {
    // Where a depth fits but for ep's rule, ep is the field to change.
    const bool ep_rule = p.ep > 1 && nearest_where(p.pp, gpus / tp_cp, [&](long long v) { return fits(v, 1); }).any();
    return {fmt::format("no pp splits the {} layers and divides {} / (tp x cp){}", w_.model.layers, gpus, with_ep),
            false, ep_rule ? "parallelism.ep" : "parallelism.tp"};
  }
  // Where the depth alone leaves the batch unsplit over its dp, say what
  // the batch would need (the next check's rule), not only the depth.
  std::string then;
  for (const auto& v : {pp.below, pp.above}) {
    if (!v) continue;
    const long long per_step = 1LL * w_.batch.micro * (gpus / tp_cp / *v);
    if (w_.batch.global % per_step != 0)
      then += fmt::format("{}with pp {}, batch.global {}", then.empty() ? " (" : "; ", *v,
                          to_string(nearest_multiples(w_.batch.global, per_step)));
  }
  if (!then.empty()) then += ", a multiple of micro-batch x dp)";
  return {fmt::format("nearest valid pp{}: {}{}", with_ep, to_string(pp), then), true};
}

Status Compiler::set_up() {
  const auto& p = w_.parallel;
  const int gpus = placement_.empty() ? net_.num_gpus() : static_cast<int>(placement_.size());
  const char* whose = placement_.empty() ? "the topology has" : "the placement has";
  g_.gpus = gpus;
  g_.tp = p.tp;
  g_.cp = p.cp;
  g_.pp = p.pp;
  g_.ep = p.ep;
  g_.virtual_stages = p.virtual_stages;
  const long long fixed = 1LL * p.tp * p.cp * p.pp;
  if (p.dp == 0) {
    if (gpus % fixed != 0) {
      // Blamed on the field to change: pp where a depth fits, else tp.
      const PipelineFit fix = pp_that_fits(gpus);
      return w_.error_at(
          fix.found ? "parallelism.pp" : fix.field,
          fmt::format("tp x cp x pp = {} x {} x {} = {} does not divide {} {} GPUs; {}", p.tp, p.cp, p.pp, fixed,
                      placement_.empty() ? "the topology's" : "the placement's", gpus, fix.text));
    }
    g_.dp = static_cast<int>(gpus / fixed);
  } else {
    g_.dp = p.dp;
    if (fixed * p.dp != gpus) {
      const std::string fix =
          gpus % fixed == 0
              ? fmt::format("dp = {} uses them all (or leave dp out, or 0)", gpus / fixed)
              : fmt::format("no dp fits pp = {}; with dp left out (or 0), {}", p.pp, pp_that_fits(gpus).text);
      return w_.error_at("parallelism.dp", fmt::format("tp x cp x pp x dp = {} x {} x {} x {} = {}, but {} {} GPUs; {}",
                                                       p.tp, p.cp, p.pp, p.dp, fixed * p.dp, whose, gpus, fix));
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
  // Size guard, before anything is built: the step simulation has about a
  // dozen operations per layer, micro-batch and replica (forward, backward,
  // their collectives and sends; 3.2 M for the 16,384-GPU Llama-3 405B
  // step, 1.2 GB). Named limit: 3e7 operations, about 11 GB.
  constexpr double kMaxStepOperations = 3e7;
  const double operations = 12.0 * g_.dp * static_cast<double>(g_.micro_batches) * w_.model.layers;
  if (operations > kMaxStepOperations) {
    return w_.error_at(w_.model.layers >= g_.micro_batches ? "model.layers" : "batch.global",
                       fmt::format("this step has about {:.2g} operations to simulate (12 x dp {} x {} micro-batches "
                                   "x {} layers), above the limit of {:.0e}; use fewer micro-batches or layers",
                                   operations, g_.dp, g_.micro_batches, w_.model.layers, kMaxStepOperations));
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
  gpu_of_ = [stride, this](int t, int c, int d, int s) {
    const int rank =
        t * stride.at(Dim::kTp) + c * stride.at(Dim::kCp) + d * stride.at(Dim::kDp) + s * stride.at(Dim::kPp);
    return placement_.empty() ? rank : placement_[static_cast<std::size_t>(rank)];
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
  const double scores = 2.0 * md.seq_len * md.heads * md.head_dim;   // attention core, per token
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
    const BlockTime& mlp = w_.model.experts > 0 && w_.model.dense_layers == 0 ? lc.moe : lc.mlp;
    for (int k = 0; k < kKernelKinds; ++k) g_.layer_compute_by_kind.push_back(lc.attention.by_kind[k] + mlp.by_kind[k]);
  } else if (cs.layer_forward_s > 0) {
    // A measured time faster than the GPU's peak allows is a unit or a
    // layout slip (MFU came out above 100%): refused, naming the rate it implies.
    const double layer_flops = g_.counts.dense_layer_flops_per_token * tokens;  // forward, per GPU
    for (auto [field, seconds, flops] : {std::tuple{"compute.layer_forward", cs.layer_forward_s, layer_flops},
                                         std::tuple{"compute.layer_backward", cs.layer_backward_s, 2 * layer_flops}}) {
      if (gpu_.peak_flop_per_s > 0 && seconds > 0 && flops / seconds > gpu_.peak_flop_per_s) {
        return w_.error_at(
            field, fmt::format("{} per layer and micro-batch is {} per GPU ({:.4g} GFLOP of this model's layer on "
                               "each GPU at tp {} x cp {}), above the GPU's peak of {}: check the unit and the "
                               "layout it was measured with",
                               units::format(units::Duration{seconds}), units::format(units::FlopRate{flops / seconds}),
                               flops / 1e9, p.tp, p.cp, units::format(units::FlopRate{gpu_.peak_flop_per_s})));
      }
    }
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

}  // namespace collsim::workload::detail
