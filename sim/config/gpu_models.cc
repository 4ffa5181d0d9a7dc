#include "sim/config/gpu_models.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "sim/units/units.h"

namespace collsim::config {

namespace {

constexpr double kT = 1e12;  // TFLOP/s and TB/s
constexpr double kGiB = 1024.0 * 1024 * 1024;
constexpr double kMiB = 1024.0 * 1024;

}  // namespace

const std::vector<std::string>& gpu_precisions() {
  static const std::vector<std::string> p{"tf32", "fp16", "bf16", "fp8", "fp4"};
  return p;
}

// Sources (dense peaks, no sparsity):
//   peaks: NVIDIA datasheets as quoted by NVIDIA's dgxc-benchmarking README
//     ("Peak Theoretical Throughput") and Stas Bekman, "Machine Learning
//     Engineering", compute/accelerator (GB200: 2,500 / 5,000 / 10,000 there,
//     2,450 / 4,900 / 9,800 in dgxc-benchmarking; we take the former, the
//     base of the measured MAMF percentages).
//   MAMF: the same accelerator chapter's maximum achievable matmul FLOP/s
//     (best of many GEMM shapes, 100 timed iterations after 50 warm-up).
//   HBM: datasheets; B200 and B300 as NVIDIA's DGX reference architectures
//     quote them (usable 180 GB at 7.7 TB/s on DGX B200); GB200 as nvidia-smi
//     reports it in MLPerf system descriptions (189,471 MiB); H100 SXM 80GB
//     as nvidia-smi reports it, 81,559 MiB (79.6 GiB; NVIDIA/nccl issue 1264's
//     nvidia-smi listing; modal-labs/modal-client pull request 2797), A100
//     80GB's 81,920 MiB being 80 GiB exactly.
//   SMs: NVIDIA's A100 and H100 architecture whitepapers (108 on A100, 132
//     on H100 SXM5; H200 is the same die).
// ASSUMPTION (NOT FOUND in our sources): 148 SMs on every Blackwell GPU
//   (B200, GB200, B300, GB300), as CUDA's device query is commonly reported
//   to print for B200; it only sets GEMM wave quantisation.
// ASSUMPTION (named): datasheet "GB" of HBM read as GiB (nvidia-smi's
//   189,471 MiB for GB200's "186 GB" is 185 GiB: the datasheet figure is
//   binary).
// ASSUMPTION (NOT FOUND): GB300's MAMF, taken at GB200's measured fractions
//   of peak (72.9% bf16, 72.3% fp8) on its own peaks.
// ASSUMPTION (NOT FOUND for Hopper and Blackwell in our sources): a dense
//   fp16 peak equal to bf16's and tf32 at half of bf16, as the A100
//   datasheet gives (312 / 312 / 156 TFLOP/s); added where a model lacks them.
const std::vector<GpuModelSpec>& builtin_gpu_models() {
  static const std::vector<GpuModelSpec> models = [] {
    std::vector<GpuModelSpec> m{
        {"a100",
         {{"bf16", 312 * kT}, {"fp16", 312 * kT}, {"tf32", 156 * kT}},
         {{"bf16", 271.2 * kT}},
         80 * kGiB,
         2.0 * kT,
         108},
        {"h100",
         {{"bf16", 989 * kT}, {"fp8", 1979 * kT}},
         {{"bf16", 794.5 * kT}, {"fp8", 1402.6 * kT}},
         81559 * kMiB,
         3.35 * kT,
         132},
        {"h200",
         {{"bf16", 989 * kT}, {"fp8", 1979 * kT}},
         {{"bf16", 794.5 * kT}, {"fp8", 1453.4 * kT}},
         141 * kGiB,
         4.8 * kT,
         132},
        {"b200",
         {{"bf16", 2250 * kT}, {"fp8", 4500 * kT}, {"fp4", 9000 * kT}},
         {{"bf16", 1745.0 * kT}, {"fp8", 3432.5 * kT}},
         180 * kGiB,
         7.7 * kT,
         148},
        {"gb200",
         {{"bf16", 2500 * kT}, {"fp8", 5000 * kT}, {"fp4", 10000 * kT}},
         {{"bf16", 1822.0 * kT}, {"fp8", 3615.6 * kT}},
         189471 * kMiB,
         8.0 * kT,
         148},
        {"b300",
         {{"bf16", 2250 * kT}, {"fp8", 4500 * kT}, {"fp4", 13500 * kT}},
         {{"bf16", 1769.0 * kT}, {"fp8", 3353.3 * kT}},
         270 * kGiB,
         7.7 * kT,
         148},
        {"gb300",
         {{"bf16", 2450 * kT}, {"fp8", 4900 * kT}, {"fp4", 14700 * kT}},
         {{"bf16", 2450 * kT * 1822.0 / 2500}, {"fp8", 4900 * kT * 3615.6 / 5000}},
         279 * kGiB,
         8.0 * kT,
         148},
    };
    for (auto& g : m) {
      const double bf16 = g.peak_flop_per_s.at("bf16");
      g.peak_flop_per_s.try_emplace("fp16", bf16);
      g.peak_flop_per_s.try_emplace("tf32", bf16 / 2);
    }
    return m;
  }();
  return models;
}

Expected<const GpuModelSpec*> find_gpu_model(const TopologySpec& spec, const std::string& name) {
  auto it = spec.gpu_models.find(name);
  if (it != spec.gpu_models.end()) return &it->second;
  std::vector<std::string_view> names;
  for (const auto& [n, m] : spec.gpu_models) names.push_back(n);
  std::string msg = fmt::format("unknown GPU model '{}'", name);
  if (auto near = closest_match(name, names)) msg += fmt::format(" (did you mean '{}'?)", *near);
  return make_error(msg +
                    fmt::format("; expected one of: {} (or define it under gpu_models:)", fmt::join(names, ", ")));
}

namespace {

// A map of precision: rate, each a FLOP/s quantity ("989TFLOP/s").
Status read_rates(const MapReader& entry, const std::string& key, std::map<std::string, double>& rates) {
  if (!entry.has(key)) return Ok{};
  const YAML::Node map = entry.child(key);
  if (!map.IsMap()) return entry.error_at(key, "expected a map of precision: rate, e.g. {bf16: 989TFLOP/s}");
  MapReader r(map, entry.file(), entry.field(key));
  std::vector<std::string_view> allowed(gpu_precisions().begin(), gpu_precisions().end());
  if (auto s = r.check(allowed); !s) return s;
  for (const auto& p : gpu_precisions()) {
    if (!r.has(p)) continue;
    auto text = r.scalar(p);
    if (!text) return text.error();
    auto rate = units::parse_flop_rate(*text);
    if (!rate) return r.error_at(p, rate.error().message);
    if (!(rate->flop_per_s > 0)) return r.error_at(p, fmt::format("expected a positive rate, found '{}'", *text));
    rates[p] = rate->flop_per_s;
  }
  return Ok{};
}

}  // namespace

Status read_gpu_models(const MapReader& top, TopologySpec& spec) {
  if (!top.has("gpu_models")) return Ok{};
  const YAML::Node models = top.child("gpu_models");
  if (!models.IsMap())
    return top.error_at("gpu_models", "expected a map of model name: {peak, mamf, hbm_capacity, hbm_bandwidth}");
  for (const auto& kv : models) {
    const std::string name = kv.first.Scalar();
    MapReader entry(kv.second, top.file(), "gpu_models." + name);
    if (!kv.second.IsMap())
      return Error{"expected a map with peak, mamf, hbm_capacity, hbm_bandwidth", entry.path(), entry.mark()};
    if (auto s = entry.check({"peak", "mamf", "hbm_capacity", "hbm_bandwidth", "sms"}); !s) return s;
    const bool fresh = !spec.gpu_models.count(name);
    GpuModelSpec m = fresh ? GpuModelSpec{name, {}, {}, 0, 0, 0} : spec.gpu_models[name];
    if (auto s = read_rates(entry, "peak", m.peak_flop_per_s); !s) return s;
    if (auto s = read_rates(entry, "mamf", m.mamf_flop_per_s); !s) return s;
    if (entry.has("hbm_capacity")) {
      auto text = entry.scalar("hbm_capacity");
      if (!text) return text.error();
      auto b = units::parse_bytes(*text);
      if (!b) return entry.error_at("hbm_capacity", b.error().message);
      if (!(b->count > 0))
        return entry.error_at("hbm_capacity", fmt::format("expected a positive size, found '{}'", *text));
      m.hbm_bytes = b->count;
    }
    if (entry.has("hbm_bandwidth")) {
      auto text = entry.scalar("hbm_bandwidth");
      if (!text) return text.error();
      auto r = units::parse_rate(*text);
      if (!r) return entry.error_at("hbm_bandwidth", r.error().message);
      if (!(r->bytes_per_s > 0)) {
        return entry.error_at("hbm_bandwidth", fmt::format("expected a positive rate, found '{}'", *text));
      }
      m.hbm_Bps = r->bytes_per_s;
    }
    if (entry.has("sms")) {
      auto v = entry.integer_in("sms", 1, 100000, "an SM count");
      if (!v) return v.error();
      m.sms = *v;
    }
    if (!m.peak_flop_per_s.count("bf16")) {
      return entry.error_at(
          "peak", fmt::format("GPU model '{}' needs at least a bf16 peak, e.g. peak: {{bf16: 989TFLOP/s}}", name));
    }
    for (const auto& [p, ceiling] : m.mamf_flop_per_s) {
      auto peak = m.peak_flop_per_s.find(p);
      if (peak == m.peak_flop_per_s.end() || ceiling > peak->second) {
        // Name the field the user wrote: lowering a built-in's peak alone
        // leaves its measured ceiling above it.
        const bool wrote_mamf = entry.has("mamf");
        return entry.error_at(
            wrote_mamf ? "mamf" : "peak",
            fmt::format(
                "the {} ceiling {} must not exceed the {} peak{}{}", p, units::format(units::FlopRate{ceiling}), p,
                peak == m.peak_flop_per_s.end() ? " (none given)" : " " + units::format(units::FlopRate{peak->second}),
                wrote_mamf ? "" : " (give mamf too, at or below the new peak)"));
      }
    }
    spec.gpu_models[name] = m;
  }
  return Ok{};
}

}  // namespace collsim::config
