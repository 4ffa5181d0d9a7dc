// The kernels of a transformer layer and their times (kernels.h).
//
// Per GPU and micro-batch, with b sequences of s tokens, tp = t, cp = c:
//   T  = b s / c tokens pass through the GEMMs and the attention core;
//   Tm = T / t with sequence parallelism (else T) pass through the
//        memory-bound kernels between the TP regions.
// A GEMM's backward is two GEMMs of the same FLOPs (gradient of the input,
// M x K from M x N and N x K; gradient of the weight, K x N reduced over
// the M tokens). FlashAttention's backward does 2.5x its forward's matmul
// FLOPs (five matmuls against two; Dao 2023, "FlashAttention-2", section 3).
#include "sim/workload/kernels.h"

#include <algorithm>
#include <cmath>

namespace collsim::workload {

const char* kernel_kind_name(int kind) {
  static const char* const names[kKernelKinds] = {"GEMMs", "attention core", "memory-bound", "kernel overhead"};
  return kind >= 0 && kind < kKernelKinds ? names[kind] : "?";
}

const char* to_string(Recompute r) {
  switch (r) {
    case Recompute::kNone:
      return "none";
    case Recompute::kSelective:
      return "selective";
    case Recompute::kFull:
      return "full";
  }
  return "?";
}

double gemm_efficiency(double m, double n, double k, int sms, const KernelParams& p) {
  const double tm = p.gemm_tile_m, tn = p.gemm_tile_n;
  const double rows = std::ceil(m / tm), cols = std::ceil(n / tn);
  double tiles = rows * cols;
  const double tile = m * n / (rows * tm * cols * tn);
  // Fewer tiles than SMs: the library splits K across SMs (split-K) as long
  // as each split keeps a useful K loop (>= 2 x gemm_k_half).
  double kk = k;
  if (sms > 0 && tiles < sms) {
    const double splits = std::max(1.0, std::min(std::floor(sms / tiles), std::floor(k / (2 * p.gemm_k_half))));
    tiles *= splits;
    kk = k / splits;
  }
  const double wave = sms > 0 ? tiles / (std::ceil(tiles / sms) * sms) : 1.0;
  return tile * wave * kk / (kk + p.gemm_k_half);
}

double gemm_time(double m, double n, double k, const GpuRates& gpu, const KernelParams& p) {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  const double flops = 2 * m * n * k;
  const double compute = flops / (gpu.gemm_flop_per_s * gemm_efficiency(m, n, k, gpu.sms, p));
  const double elem = gpu.fp8 ? 1.0 : 2.0;  // operands; the output is written in bf16
  const double bytes = (m * k + k * n) * elem + m * n * 2;
  return std::max(compute, bytes / (gpu.hbm_Bps * p.hbm_efficiency)) + p.kernel_overhead_s;
}

double memory_time(double bytes, const GpuRates& gpu, const KernelParams& p) {
  if (bytes <= 0) return 0;
  return bytes / (gpu.hbm_Bps * p.hbm_efficiency) + p.kernel_overhead_s;
}

double optimizer_time(double params, const GpuRates& gpu, const KernelParams& p) {
  return memory_time(params * p.optimizer_bytes, gpu, p);
}

namespace {

// Accumulates one block's kernels.
class Block {
 public:
  Block(const GpuRates& gpu, const KernelParams& p) : gpu_(gpu), p_(p) {}

  // A linear layer: input M x K, weight K x N, output M x N. With FP8 the
  // input is cast before the forward GEMM and the output gradient before
  // the backward GEMMs (memory-bound kernels).
  // `groups` GEMMs of this shape in one kernel (grouped or batched GEMM).
  void linear(double m, double n, double k, double groups = 1) { gemms(m, n, k, groups, gpu_); }

  // A GEMM kept in bf16 under FP8 training: between activations (unfused
  // attention, `batch` of them), or the output head.
  void bf16(double m, double n, double k, double batch = 1) {
    GpuRates rates = gpu_;
    rates.gemm_flop_per_s = gpu_.attention_flop_per_s;
    rates.fp8 = false;
    gemms(m, n, k, batch, rates);
  }

  void gemms(double m, double n, double k, double groups, const GpuRates& gpu) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    const double fwd = groups * (gemm_time(m, n, k, gpu, p_) - p_.kernel_overhead_s);
    const double bwd = groups * (gemm_time(m, k, n, gpu, p_) + gemm_time(k, n, m, gpu, p_) - 2 * p_.kernel_overhead_s);
    t_.fwd_s += fwd + p_.kernel_overhead_s;
    t_.bwd_s += bwd + 2 * p_.kernel_overhead_s;
    t_.by_kind[kGemmKernels] += fwd + bwd;
    t_.by_kind[kKernelOverhead] += 3 * p_.kernel_overhead_s;
    t_.flops_fwd += groups * 2 * m * n * k;
    ++t_.kernels_fwd;
    t_.kernels_bwd += 2;
    if (gpu.fp8) {
      fwd_memory(groups * m * k * p_.fp8_cast_bytes);
      bwd_memory(groups * m * n * p_.fp8_cast_bytes);
    }
  }

  // The attention core: FLOPs of the forward (causal mask applied).
  void attention(double flops) {
    const double rate = gpu_.attention_flop_per_s * p_.attention_efficiency;
    const double fwd = flops / rate + p_.kernel_overhead_s;
    t_.fwd_s += fwd;
    t_.bwd_s += 2.5 * flops / rate + p_.kernel_overhead_s;
    t_.by_kind[kAttentionCore] += 3.5 * flops / rate;
    t_.by_kind[kKernelOverhead] += 2 * p_.kernel_overhead_s;
    t_.recompute_s += fwd;  // selective recomputation re-runs exactly this
    t_.flops_fwd += flops;
    ++t_.kernels_fwd;
    ++t_.kernels_bwd;
  }

  // A memory-bound kernel moving `fwd` bytes forward and `bwd` backward.
  void streaming(double fwd, double bwd) {
    fwd_memory(fwd);
    bwd_memory(bwd);
  }

  // Marks forward time from here on as what selective recomputation re-runs.
  void begin_recomputed() { recompute_from_ = t_.fwd_s; }
  void end_recomputed() { t_.recompute_s += t_.fwd_s - recompute_from_; }

  BlockTime done() const { return t_; }

 private:
  void fwd_memory(double bytes) {
    if (bytes <= 0) return;
    t_.fwd_s += memory_time(bytes, gpu_, p_);
    t_.by_kind[kMemoryBound] += memory_time(bytes, gpu_, p_) - p_.kernel_overhead_s;
    t_.by_kind[kKernelOverhead] += p_.kernel_overhead_s;
    t_.bytes_fwd += bytes;
    ++t_.kernels_fwd;
  }
  void bwd_memory(double bytes) {
    if (bytes <= 0) return;
    t_.bwd_s += memory_time(bytes, gpu_, p_);
    t_.by_kind[kMemoryBound] += memory_time(bytes, gpu_, p_) - p_.kernel_overhead_s;
    t_.by_kind[kKernelOverhead] += p_.kernel_overhead_s;
    ++t_.kernels_bwd;
  }

  const GpuRates& gpu_;
  const KernelParams& p_;
  BlockTime t_;
  double recompute_from_ = 0;
};

}  // namespace

LayerCompute layer_compute(const WorkloadSpec& w, const GpuRates& gpu) {
  const auto& md = w.model;
  const auto& par = w.parallel;
  const KernelParams& p = w.compute.kernels;
  const double t = par.tp, c = par.cp, a = w.precision.activation_bytes;
  const double T = 1.0 * w.batch.micro * md.seq_len / c;
  const double Tm = par.sequence_parallel ? T / t : T;
  const double h = md.hidden, q = 1.0 * md.heads * md.head_dim, kv = 1.0 * md.kv_heads * md.head_dim;
  const double gated = md.mlp == Mlp::kSwiGlu ? 2 : 1;  // fc1 outputs: gate and up, or up only

  // Norm: read x, write y forward; read x and dy, write dx backward.
  auto norm = [&](Block& b, double tokens) { b.streaming(2 * tokens * h * a, 3 * tokens * h * a); };
  // Bias-dropout-add: read the residual and the branch, write the sum and a
  // one-byte dropout mask; backward reads the gradient and mask, writes two.
  auto bias_dropout_add = [&](Block& b) { b.streaming(Tm * h * (3 * a + 1), Tm * h * (3 * a + 1)); };
  // Activation over `width` outputs per token (SwiGLU reads two inputs each).
  auto activation = [&](Block& b, double tokens, double width) {
    b.streaming(tokens * width * (gated + 1) * a, tokens * width * (2 * gated + 1) * a);
  };

  LayerCompute out;
  {
    Block b(gpu, p);
    norm(b, Tm);
    b.linear(T, (q + 2 * kv) / t, h);                                 // QKV, column parallel
    b.streaming(2 * T * (q + kv) / t * a, 2 * T * (q + kv) / t * a);  // rotary on q and k
    if (w.compute.attention == AttentionKernel::kFlash) {
      // QK^T and AV: 2 x 2 x s_q x s_k x head_dim per head, half under the causal mask.
      b.attention(0.5 * 4 * T * md.seq_len * (md.heads / t) * md.head_dim);
    } else {
      // Per local head: scores s_q x s_k = QK^T, fused scale-mask-softmax
      // (read scores, write probabilities; backward reads both, writes one),
      // dropout (one-byte mask), then AV.
      const double heads = w.batch.micro * md.heads / t, sq = md.seq_len / c, sk = md.seq_len;
      const double scores = heads * sq * sk;
      b.begin_recomputed();
      b.bf16(sq, sk, md.head_dim, heads);
      b.streaming(2 * scores * a, 3 * scores * a);
      b.streaming(scores * (2 * a + 1), scores * (2 * a + 1));
      b.bf16(sq, md.head_dim, sk, heads);
      b.end_recomputed();
    }
    b.linear(T, h, q / t);  // output projection, row parallel
    out.attention = b.done();
  }
  {
    Block b(gpu, p);
    bias_dropout_add(b);
    norm(b, Tm);
    b.linear(T, gated * md.ffn_hidden / t, h);
    activation(b, T, md.ffn_hidden / t);
    b.linear(T, h, md.ffn_hidden / t);
    bias_dropout_add(b);
    out.mlp = b.done();
  }
  if (md.experts > 0) {
    Block b(gpu, p);
    bias_dropout_add(b);
    norm(b, Tm);
    b.linear(T, md.experts, h);  // router (replicated over TP)
    // Token copies this GPU's experts receive: T x top_k in all when the
    // router balances them, spread over experts / ep local experts.
    const double copies = T * md.top_k, local = 1.0 * md.experts / par.ep, ef = md.expert_ffn_hidden / t;
    b.streaming(2 * copies * h * a, 2 * copies * h * a);  // permute into expert order
    b.linear(copies / local, gated * ef, h, local);       // grouped GEMMs, one group per local expert
    activation(b, copies, ef);
    b.linear(copies / local, h, ef, local);
    b.streaming(2 * copies * h * a, 2 * copies * h * a);  // unpermute and weight
    if (md.shared_experts > 0) {
      b.linear(T, gated * md.shared_experts * ef, h);
      activation(b, T, md.shared_experts * ef);
      b.linear(T, h, md.shared_experts * ef);
    }
    bias_dropout_add(b);
    out.moe = b.done();
  }
  {
    Block b(gpu, p);
    norm(b, Tm);
    // In bf16 even under FP8 training: Megatron-LM's output layer is not a
    // Transformer Engine FP8 module (TE's guidance keeps the last layer in
    // higher precision).
    b.bf16(T, 1.0 * md.vocab / t, h);
    // Vocabulary-parallel cross-entropy in fp32 (Megatron-LM): the logits are
    // read twice (max and sum of exponentials) forward; the gradient is
    // written and read once backward.
    const double logits = T * md.vocab / t * 4;
    b.streaming(2 * logits, 2 * logits);
    out.head = b.done();
  }
  out.optimizer_bytes_per_param = p.optimizer_bytes;
  return out;
}

}  // namespace collsim::workload
