// The workload file's precision, compute, memory and communication
// sections (workload_reader.h).
#include "sim/config/gpu_models.h"
#include "sim/engine/tuner_choice.h"
#include "sim/workload/workload_reader.h"

namespace collsim::workload::detail {

Status Reader::precision(const MapReader& m) {
  if (auto s = m.check({"weights", "grads", "activations", "compute"}); !s) return s;
  auto wt = precision(m, "weights", 2);
  if (!wt) return wt.error();
  auto gr = precision(m, "grads", *wt);
  if (!gr) return gr.error();
  auto ac = precision(m, "activations", 2);
  if (!ac) return ac.error();
  w_.precision = PrecisionSpec{*wt, *gr, *ac};
  remember(m, "compute");
  if (auto v = m.optional_scalar("compute"); !v) {
    return v.error();
  } else if (*v) {
    const auto& known = config::gpu_precisions();
    if (std::find(known.begin(), known.end(), **v) == known.end()) {
      return m.error_at("compute", fmt::format("expected tf32, fp16, bf16, fp8 or fp4, found '{}'", **v));
    }
    w_.precision.compute = **v;
  }
  return Ok{};
}

// A number in (lo, hi] (or [lo, hi] with lo_inclusive); `fallback` when absent.
Expected<double> Reader::fraction(const MapReader& m, std::string_view key, double lo, double hi, double fallback) {
  remember(m, key);
  if (!m.has(key)) return fallback;
  auto v = m.number(key);
  if (!v) return v.error();
  if (!(*v > lo && *v <= hi))
    return m.error_at(key, fmt::format("expected a number in ({}, {}], found {}", lo, hi, *v));
  return *v;
}

Status Reader::compute(const MapReader& m) {
  if (auto s = m.check({"peak", "mfu", "layer_forward", "layer_backward", "recompute", "optimizer", "kernel_overhead",
                        "gemm_k_half", "gemm_tile", "attention_efficiency", "hbm_efficiency", "fp8_cast_bytes",
                        "optimizer_bytes", "attention"});
      !s)
    return s;
  auto& c = w_.compute;
  auto flops = [](std::string_view t) -> Expected<double> {
    auto r = units::parse_flop_rate(t);
    if (!r) return r.error();
    return r->flop_per_s;
  };
  auto seconds = [](std::string_view t) -> Expected<double> {
    auto r = units::parse_duration(t);
    if (!r) return r.error();
    return r->seconds;
  };
  const bool derived = m.has("mfu");
  const bool measured = m.has("layer_forward") || m.has("layer_backward");
  if (derived && measured) {
    return Error{
        "expected at most one of mfu (compute time from FLOPs at the GPU's peak, or at compute.peak) and "
        "layer_forward with layer_backward (measured per micro-batch); with neither, compute is timed per kernel "
        "from the GPU model",
        m.path(), m.mark()};
  }
  // Without a peak, the topology's GPU model gives it (resolve_gpu_model).
  auto peak = quantity(m, "peak", flops, 0);
  if (!peak) return peak.error();
  c.peak_flop_per_s = *peak;
  if (c.peak_flop_per_s > 0 && !(c.peak_flop_per_s < 1e20))
    return m.error_at("peak", "expected a finite rate below 100 EFLOP/s");
  if (derived) {
    auto mfu = fraction(m, "mfu", 0.001, 1, 0);  // named floor: 0.1% (below it a step takes ages)
    if (!mfu) return mfu.error();
    c.mfu = *mfu;
  } else if (measured) {
    for (auto [key, target] :
         {std::pair{"layer_forward", &c.layer_forward_s}, {"layer_backward", &c.layer_backward_s}}) {
      if (!m.has(key)) return m.error_at(key, "missing: give both layer_forward and layer_backward");
      auto v = quantity(m, key, seconds, 0);
      if (!v) return v.error();
      *target = *v;
    }
  }
  remember(m, "recompute");
  if (auto v = m.optional_scalar("recompute"); !v) {
    return v.error();
  } else if (*v) {
    const std::string r = **v;
    if (r == "none" || r == "false")
      c.recompute = Recompute::kNone;
    else if (r == "selective")
      c.recompute = Recompute::kSelective;
    else if (r == "full" || r == "true")
      c.recompute = Recompute::kFull;
    else
      return m.error_at("recompute", fmt::format("expected none, selective or full, found '{}'", r));
  }
  remember(m, "attention");
  if (auto v = m.optional_scalar("attention"); !v) {
    return v.error();
  } else if (*v) {
    if (**v != "flash" && **v != "unfused")
      return m.error_at("attention", fmt::format("expected flash or unfused, found '{}'", **v));
    c.attention = **v == "flash" ? AttentionKernel::kFlash : AttentionKernel::kUnfused;
  }
  remember(m, "optimizer");
  if (auto v = m.optional_scalar("optimizer"); !v) {
    return v.error();
  } else if (*v) {
    auto d = units::parse_duration(**v);
    if (!d) return m.error_at("optimizer", d.error().message);
    if (!(d->seconds >= 0 && d->seconds < 1e6)) return m.error_at("optimizer", "expected a duration from 0 to 1e6 s");
    c.optimizer_s = d->seconds;
  }
  auto& k = c.kernels;
  if (!c.by_kernel()) {  // the kernel model's settings would be silently unused
    for (const char* key : {"kernel_overhead", "gemm_k_half", "gemm_tile", "attention_efficiency", "hbm_efficiency",
                            "fp8_cast_bytes", "optimizer_bytes", "attention"}) {
      if (m.has(key)) {
        return m.error_at(key, fmt::format("{} sets the per-kernel compute model, which {} replaces: give one or the "
                                           "other",
                                           key, derived ? "mfu" : "layer_forward/layer_backward"));
      }
    }
  }
  auto overhead = quantity(m, "kernel_overhead", seconds, k.kernel_overhead_s);
  if (!overhead) return overhead.error();
  if (!(*overhead < 1)) return m.error_at("kernel_overhead", "expected a duration below 1 s");
  k.kernel_overhead_s = *overhead;
  // Efficiencies below 1% are no GPU's: a typo, not a what-if.
  for (auto [key, target, lo, hi] : {std::tuple{"attention_efficiency", &k.attention_efficiency, 0.0099, 1.0},
                                     {"hbm_efficiency", &k.hbm_efficiency, 0.0099, 1.0},
                                     {"gemm_k_half", &k.gemm_k_half, -1.0, 1e6},
                                     {"fp8_cast_bytes", &k.fp8_cast_bytes, -1.0, 64.0},
                                     {"optimizer_bytes", &k.optimizer_bytes, -1.0, 1024.0}}) {
    auto v = fraction(m, key, lo, hi, *target);
    if (!v) return v.error();
    if (*v < 0) return m.error_at(key, fmt::format("expected 0 or more, found {}", *v));
    *target = *v;
  }
  remember(m, "gemm_tile");
  if (m.has("gemm_tile")) {
    const YAML::Node tile = m.child("gemm_tile");
    auto bad = [&] { return m.error_at("gemm_tile", "expected [rows, columns] of one GEMM tile, e.g. [128, 256]"); };
    if (!tile.IsSequence() || tile.size() != 2) return bad();
    int dims[2];
    for (int i = 0; i < 2; ++i) {
      try {
        dims[i] = tile[i].as<int>();
      } catch (const YAML::Exception&) {
        return bad();
      }
      if (dims[i] < 1 || dims[i] > 4096) return bad();
    }
    k.gemm_tile_m = dims[0];
    k.gemm_tile_n = dims[1];
  }
  return Ok{};
}

Status Reader::memory(const MapReader& m) {
  if (auto s = m.check({"optimizer_state_bytes", "reserve"}); !s) return s;
  auto& mem = w_.memory;
  auto v = fraction(m, "optimizer_state_bytes", -1, 1024, mem.optimizer_state_bytes);
  if (!v) return v.error();
  if (*v < 0) return m.error_at("optimizer_state_bytes", fmt::format("expected 0 or more, found {}", *v));
  mem.optimizer_state_bytes = *v;
  remember(m, "reserve");
  if (auto r = m.optional_scalar("reserve"); !r) {
    return r.error();
  } else if (*r) {
    auto b = units::parse_bytes(**r);
    if (!b) return m.error_at("reserve", b.error().message);
    if (!(b->count >= 0 && b->count < 1e15)) return m.error_at("reserve", "expected a size of 0 or more");
    mem.reserve_bytes = b->count;
  }
  return Ok{};
}

Status Reader::communication(const MapReader& m) {
  if (auto s = m.check({"algorithm", "protocol", "nccl", "dp_bucket", "overlap_dp", "overlap_pp"}); !s) return s;
  auto& c = w_.comm;
  for (auto [key, target] : {std::pair{"algorithm", &c.algorithm}, {"protocol", &c.protocol}}) {
    remember(m, key);
    auto v = m.optional_scalar(key);
    if (!v) return v.error();
    if (*v) *target = **v;
  }
  c.algorithm = engine::algorithm_name(c.algorithm);  // NCCL_ALGO's names in any case
  if (auto s = check_comm_choice(c.algorithm, c.protocol); !s) {
    const bool algo = s.error().field == "algorithm";
    return m.error_at(algo ? "algorithm" : "protocol", s.error().message);
  }
  remember(m, "nccl");
  auto nccl = m.parsed("nccl", collective::parse_nccl_release, c.nccl);
  if (!nccl) return nccl.error();
  c.nccl = *nccl;
  auto bytes = [](std::string_view t) -> Expected<double> {
    auto r = units::parse_bytes(t);
    if (!r) return r.error();
    return r->count;
  };
  auto b = quantity(m, "dp_bucket", bytes, c.dp_bucket_bytes);
  if (!b) return b.error();
  c.dp_bucket_bytes = *b;
  auto ov = boolean(m, "overlap_dp", true);
  if (!ov) return ov.error();
  c.overlap_dp = *ov;
  auto op = boolean(m, "overlap_pp", true);
  if (!op) return op.error();
  c.overlap_pp = *op;
  return Ok{};
}

}  // namespace collsim::workload::detail
