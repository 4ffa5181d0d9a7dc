// Parameter and FLOP counts of a transformer from its shape.
//
// Per layer (h = hidden, q = heads x head_dim, kv = kv_heads x head_dim):
//   attention: Q and O projections h x q each, K and V projections h x kv each;
//   MLP: 3 matrices h x ffn (SwiGLU) or 2 (GELU);
//   MoE layer: `experts` routed MLPs of expert_ffn_hidden, `shared_experts`
//   always-on ones, and a router h x experts.
// Norms and biases (O(h) per layer) are left out: < 0.01% of any model here.
// Forward FLOPs per token = 2 x the parameters the token meets (one multiply
// and one add per weight) + the attention scores: QK^T and AV, 2 x 2 x s x q
// per token, halved because a causal mask skips the upper triangle (as
// FlashAttention does). Backward = 2 x forward (gradients of inputs and of
// weights).
#include "sim/workload/workload_spec.h"

namespace collsim::workload {

bool is_moe_layer(const ModelSpec& m, int layer) { return m.experts > 0 && layer >= m.dense_layers; }

LayerParams layer_params_per_gpu(const ModelSpec& m, const ModelCounts& c, int layer, int tp, int ep) {
  LayerParams p;
  p.dense = c.attention_params_per_layer / tp;
  if (is_moe_layer(m, layer)) {
    p.dense += c.shared_params_per_layer / tp;
    p.expert = c.expert_params_per_layer / ep / tp;
  } else {
    p.dense += c.dense_mlp_params_per_layer / tp;
  }
  const double vocab_h = 1.0 * m.vocab * m.hidden / tp;
  if (layer == 0) p.dense += vocab_h;
  if (layer == m.layers - 1 && !m.tied_embeddings) p.dense += vocab_h;
  return p;
}

std::vector<int> chunk_layer_counts(const ModelSpec& m, const ParallelSpec& p) {
  const int v = p.virtual_stages;
  const bool first = p.first_stage_layers > 0, last = p.last_stage_layers > 0 && p.pp > 1;
  const int rest = m.layers - (first ? p.first_stage_layers : 0) - (last ? p.last_stage_layers : 0);
  const int rest_stages = p.pp - first - last;
  const int middle = rest_stages > 0 ? rest / rest_stages : 0;
  std::vector<int> out(static_cast<std::size_t>(p.pp) * v);
  for (int c = 0; c < p.pp * v; ++c) {
    const int s = c % p.pp, j = c / p.pp;  // stage, and chunk of the stage
    int n = middle;
    if (s == 0 && first)
      n = p.first_stage_layers;
    else if (s == p.pp - 1 && last)
      n = p.last_stage_layers;
    // An uneven stage's chunks differ by at most one layer: the first
    // stage's short chunks come first, the last stage's come last (the
    // model's first and last chunks are the ones that lose a layer).
    const int base = n / v, extra = n % v;
    out[c] = base + (s == 0 && first ? j >= v - extra : j < extra);
  }
  return out;
}

ModelCounts count_model(const ModelSpec& m) {
  ModelCounts c;
  const double h = m.hidden, q = static_cast<double>(m.heads) * m.head_dim,
               kv = static_cast<double>(m.kv_heads) * m.head_dim;
  const double mats = m.mlp == Mlp::kSwiGlu ? 3 : 2;
  c.attention_params_per_layer = 2 * h * q + 2 * h * kv;
  c.dense_mlp_params_per_layer = mats * h * m.ffn_hidden;
  const double expert = mats * h * m.expert_ffn_hidden;
  c.expert_params_per_layer = m.experts * expert;
  c.shared_params_per_layer = m.experts > 0 ? m.shared_experts * expert + h * m.experts : 0;
  c.embedding_params = static_cast<double>(m.vocab) * h * (m.tied_embeddings ? 1 : 2);
  const int moe_layers = m.experts > 0 ? m.layers - m.dense_layers : 0;
  const int dense_layers = m.layers - moe_layers;
  c.total_params = dense_layers * (c.attention_params_per_layer + c.dense_mlp_params_per_layer) +
                   moe_layers * (c.attention_params_per_layer + c.expert_params_per_layer + c.shared_params_per_layer) +
                   c.embedding_params;
  const double active_moe = c.attention_params_per_layer + m.top_k * expert + c.shared_params_per_layer;
  c.active_params = dense_layers * (c.attention_params_per_layer + c.dense_mlp_params_per_layer) +
                    moe_layers * active_moe + c.embedding_params;
  const double scores = 2.0 * m.seq_len * q;  // 2 x 2 x s x q, halved by the causal mask
  c.dense_layer_flops_per_token = 2 * (c.attention_params_per_layer + c.dense_mlp_params_per_layer) + scores;
  c.moe_layer_flops_per_token = 2 * active_moe + scores;
  c.head_flops_per_token = 2.0 * m.vocab * h;
  return c;
}

double model_flops_per_token(const ModelSpec& m) {
  const ModelCounts c = count_model(m);
  // The input embedding is a lookup, not a matmul; the output head is one
  // (with tied embeddings the one table serves both).
  const double matmul_params = c.active_params - c.embedding_params + static_cast<double>(m.vocab) * m.hidden;
  return 6 * matmul_params + 12.0 * m.layers * m.heads * m.head_dim * m.seq_len;
}

}  // namespace collsim::workload
