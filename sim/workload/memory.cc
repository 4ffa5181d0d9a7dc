// Memory per pipeline stage (memory.h).
#include "sim/workload/memory.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sim/units/units.h"

namespace collsim::workload {

namespace {

// Micro-batch chunks whose forward ran and whose backward has not, at the
// busiest moment of stage s's schedule (step_graph.cc pipeline_order): the
// warm-up forwards plus the one in the steady state.
int chunks_in_flight(int s, int pp, int v, int m) {
  if (v == 1) return std::min(pp - s, m);
  return std::min((pp - s - 1) * 2 + (v - 1) * pp + 1, m * v);
}

}  // namespace

double layer_activation_bytes(const WorkloadSpec& w, int layer) {
  const auto& md = w.model;
  const auto& p = w.parallel;
  const double t = p.tp, A = w.precision.activation_bytes;
  const double tokens = 1.0 * w.batch.micro * md.seq_len / p.cp;
  const double rep = p.sequence_parallel ? 1 / t : 1;  // outside the TP regions
  const double h = md.hidden, q = 1.0 * md.heads * md.head_dim, kv = 1.0 * md.kv_heads * md.head_dim;
  const double gated = md.mlp == Mlp::kSwiGlu ? 2 : 1;
  // GEMM inputs kept for the weight gradients: in FP8 when the GEMMs are
  // (Transformer Engine keeps the quantised input, one byte per element).
  const bool fp8 = w.precision.compute == "fp8" || w.precision.compute == "fp4";
  const double G = fp8 ? std::min(A, 1.0) : A;
  if (w.compute.recompute == Recompute::kFull) return tokens * A * h * rep;  // the layer's input only
  // Attention block: the norm's input and the QKV GEMM's input (replicated
  // without SP), Q, K, V, the output projection's input, a dropout mask.
  double per_token = rep * (A * h + G * h + h) + A * (q + 2 * kv) / t + G * q / t;
  // The score matrix (softmax output, dropout mask and output), unless
  // FlashAttention recomputes it or selective recomputation drops it.
  if (w.compute.attention == AttentionKernel::kUnfused && w.compute.recompute == Recompute::kNone) {
    per_token += (2 * A + 1) * (md.heads / t) * md.seq_len;
  }
  // MLP block: norm input, first GEMM's input, activation input, second
  // GEMM's input, dropout mask; a MoE layer keeps its tokens' top_k copies.
  per_token += rep * (A * h + G * h + h);
  if (is_moe_layer(md, layer)) {
    const double ef = md.expert_ffn_hidden / t;
    per_token += md.top_k * (G * h + A * ef * gated + G * ef);
    per_token += md.shared_experts * (A * ef * gated + G * ef);
  } else {
    per_token += A * md.ffn_hidden * gated / t + G * md.ffn_hidden / t;
  }
  return tokens * per_token;
}

MemoryPlan plan_memory(const WorkloadSpec& w, int dp, double hbm_bytes) {
  const auto& md = w.model;
  const auto& p = w.parallel;
  const auto& mem = w.memory;
  const ModelCounts counts = count_model(md);
  const std::vector<int> chunks = chunk_layer_counts(md, p);
  const int v = p.virtual_stages;
  const int micro_batches = std::max(1, w.batch.global / (w.batch.micro * dp));
  const double dense_shards = 1.0 * dp * p.cp, expert_shards = 1.0 * std::max(1, dp / p.ep) * p.cp;
  // Full recomputation also holds one whole layer while it reruns it.
  WorkloadSpec whole = w;
  whole.compute.recompute = Recompute::kNone;
  MemoryPlan plan;
  plan.capacity = hbm_bytes;
  std::vector<int> first(chunks.size() + 1, 0);
  for (std::size_t c = 0; c < chunks.size(); ++c) first[c + 1] = first[c] + chunks[c];
  for (int s = 0; s < p.pp; ++s) {
    StageMemory st;
    st.stage = s;
    double dense = 0, expert = 0, activations = 0, largest_layer = 0, largest_params = 0;
    for (int j = 0; j < v; ++j) {
      const int c = j * p.pp + s;
      for (int l = first[c]; l < first[c + 1]; ++l) {
        const LayerParams lp = layer_params_per_gpu(md, counts, l, p.tp, p.ep);
        dense += lp.dense;
        expert += lp.expert;
        largest_params = std::max(largest_params, lp.dense + lp.expert);
        const double a = layer_activation_bytes(w, l);
        activations += a;
        if (w.compute.recompute == Recompute::kFull)
          largest_layer = std::max(largest_layer, layer_activation_bytes(whole, l));
      }
    }
    // With tied embeddings and a pipeline, the last stage keeps its own copy
    // of the output layer (Megatron-LM syncs its gradient with stage 0's).
    if (md.tied_embeddings && p.pp > 1 && s == p.pp - 1) dense += 1.0 * md.vocab * md.hidden / p.tp;
    const double params = dense + expert;
    const double sharded = dense / dense_shards + expert / expert_shards;
    // ZeRO-3 holds a layer's gathered parameters and the next one's
    // (prefetched), and one layer's full gradients before they are
    // reduce-scattered.
    const bool gathers = p.zero >= 3 && dense_shards > 1;  // with one replica nothing is gathered
    st.weights = (p.zero >= 3 ? sharded + (gathers ? 2 * largest_params : 0) : params) * w.precision.weight_bytes;
    // ZeRO-1 and 2 reduce the gradients once, after the last micro-batch
    // (step_data_parallel.cc, as Megatron-LM's distributed optimizer), so
    // with gradient accumulation every gradient stays until then; only
    // without it (one micro-batch a step) does ZeRO-2 keep its shard alone.
    // DeepSpeed's stage 2, which reduce-scatters every micro-batch, is not
    // modelled: it was charged ZeRO-1's traffic with ZeRO-3's gradients.
    const bool grads_sharded = p.zero >= 3 || (p.zero == 2 && micro_batches == 1);
    st.grads = (grads_sharded ? sharded + (gathers ? largest_params : 0) : params) * w.precision.grad_bytes;
    st.optimizer = (p.zero >= 1 ? sharded : params) * mem.optimizer_state_bytes;
    st.in_flight = chunks_in_flight(s, p.pp, v, micro_batches);
    // Each chunk in flight holds its layers' activations (the stage's mean
    // chunk); full recomputation also holds one whole layer while it reruns it.
    st.activations = st.in_flight * activations / v + largest_layer;
    if (s == p.pp - 1) st.logits = 1.0 * w.batch.micro * md.seq_len / p.cp * md.vocab / p.tp * 4;
    st.reserve = mem.reserve_bytes;
    plan.stages.push_back(st);
  }
  for (std::size_t s = 1; s < plan.stages.size(); ++s)
    if (plan.stages[s].total() > plan.stages[plan.peak_stage].total()) plan.peak_stage = static_cast<int>(s);
  return plan;
}

std::vector<MemoryFix> memory_fixes(const WorkloadSpec& w, int dp, double hbm_bytes, std::vector<std::string>* tried) {
  // Levers, each a list of options from the mildest: a fix sets at most one
  // option of each lever. `d` is the data-parallel degree the change leaves.
  using Edit = std::function<void(WorkloadSpec&, int&)>;
  std::vector<std::vector<std::pair<std::string, Edit>>> levers;
  {
    std::vector<std::pair<std::string, Edit>> recompute;
    if (w.compute.recompute != Recompute::kSelective && w.compute.recompute != Recompute::kFull)
      recompute.emplace_back("compute.recompute=selective",
                             [](WorkloadSpec& v, int&) { v.compute.recompute = Recompute::kSelective; });
    if (w.compute.recompute != Recompute::kFull)
      recompute.emplace_back("compute.recompute=full",
                             [](WorkloadSpec& v, int&) { v.compute.recompute = Recompute::kFull; });
    if (!recompute.empty()) {
      levers.push_back(std::move(recompute));
      if (tried) tried->emplace_back("recompute");
    }
  }
  {
    std::vector<std::pair<std::string, Edit>> zero;
    for (int z = w.parallel.zero + 1; z <= 3; ++z)
      zero.emplace_back(fmt::format("parallelism.zero={}", z), [z](WorkloadSpec& v, int&) { v.parallel.zero = z; });
    if (!zero.empty()) {
      levers.push_back(std::move(zero));
      if (tried) tried->emplace_back("a higher ZeRO stage");
    }
  }
  if (w.batch.micro > 1) {
    levers.push_back({{"batch.micro=1", [](WorkloadSpec& v, int&) { v.batch.micro = 1; }}});
    if (tried) tried->emplace_back("micro-batch 1");
  }
  // A deeper pipeline (the same GPUs: dp halves) when the layers allow it.
  const auto& p = w.parallel;
  if (dp % 2 == 0 && (dp / 2) % p.ep == 0 && p.first_stage_layers == 0 && p.last_stage_layers == 0 &&
      w.model.layers % (2 * p.pp * p.virtual_stages) == 0) {
    // The same GPUs: dp halves (named when the file sets it).
    std::string change = fmt::format("parallelism.pp={}", 2 * p.pp);
    if (p.dp > 0) change += fmt::format(" with parallelism.dp={}", dp / 2);
    levers.push_back({{change, [](WorkloadSpec& v, int& d) {
                         v.parallel.pp *= 2;
                         d /= 2;
                       }}});
    if (tried) tried->emplace_back("twice the pipeline depth");
  }
  // The fewest levers that fit: every single change that does, else every
  // pair (at most kMaxCombinedFixes), else every three, ...
  constexpr std::size_t kMaxCombinedFixes = 4;
  std::vector<MemoryFix> out;
  const std::size_t n = levers.size();
  std::vector<std::vector<std::size_t>> found;  // the picks that fit
  // A pick no milder than one that fits (the same levers, each option at
  // least as strong) adds nothing: full recompute beside selective.
  auto needless = [&](const std::vector<std::size_t>& pick) {
    return std::any_of(found.begin(), found.end(), [&](const std::vector<std::size_t>& f) {
      for (std::size_t i = 0; i < n; ++i)
        if ((f[i] == 0) != (pick[i] == 0) || f[i] > pick[i]) return false;
      return true;
    });
  };
  for (std::size_t used = 1; used <= n && out.empty(); ++used) {
    // Each lever untouched (0) or set to option k - 1, as a mixed-radix count.
    std::vector<std::size_t> pick(n, 0);
    while (true) {
      const auto set = static_cast<std::size_t>(std::count_if(pick.begin(), pick.end(), [](auto k) { return k > 0; }));
      if (set == used && (used == 1 || (out.size() < kMaxCombinedFixes && !needless(pick)))) {
        WorkloadSpec v = w;
        int d = dp;
        std::string change;
        for (std::size_t i = 0; i < n; ++i) {
          if (pick[i] == 0) continue;
          const auto& [name, edit] = levers[i][pick[i] - 1];
          edit(v, d);
          change += (change.empty() ? "" : " and ") + name;
        }
        const MemoryPlan plan = plan_memory(v, d, hbm_bytes);
        if (plan.fits()) {
          out.push_back({change, plan.peak().total()});
          found.push_back(pick);
        }
      }
      std::size_t i = 0;
      while (i < n && ++pick[i] > levers[i].size()) pick[i++] = 0;
      if (i == n) break;
    }
  }
  return out;
}

std::string memory_text(const MemoryPlan& plan, bool every_stage) {
  auto gib = [](double b) { return units::format(units::Bytes{b}); };
  auto line = [&](const StageMemory& s) {
    return fmt::format(
        "  stage {:>3}  {:>10}  weights {}, grads {}, optimizer {}, activations {} ({} micro-batch chunk{}){}, "
        "reserve {}\n",
        s.stage, gib(s.total()), gib(s.weights), gib(s.grads), gib(s.optimizer), gib(s.activations), s.in_flight,
        s.in_flight == 1 ? "" : "s", s.logits > 0 ? ", logits " + gib(s.logits) : std::string(), gib(s.reserve));
  };
  const StageMemory& peak = plan.peak();
  std::string out = fmt::format(
      "memory per GPU  peak {} on stage {}{}\n", gib(peak.total()), peak.stage,
      plan.capacity > 0 ? fmt::format(" of {} HBM ({:.0f}%{})", gib(plan.capacity), 100 * peak.total() / plan.capacity,
                                      plan.fits() ? "" : ": DOES NOT FIT")
                        : std::string(" (HBM capacity unknown)"));
  if (every_stage || plan.stages.size() <= 8) {
    for (const auto& s : plan.stages) out += line(s);
  } else {
    out += line(plan.stages.front());
    if (plan.peak_stage != 0 && plan.peak_stage != static_cast<int>(plan.stages.size()) - 1) out += line(peak);
    out += line(plan.stages.back());
  }
  return out;
}

}  // namespace collsim::workload
